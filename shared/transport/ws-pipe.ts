/**
 * What the WebSocket hub and spoke share: sending with backpressure and receiving with a bound on
 * in-flight handlers. Outbound, a send waits while the socket's userland buffer is above a high-water
 * mark, so a slow peer slows its sender instead of growing memory without bound. Inbound, the socket is
 * paused while too many frames are being handled, which pushes back on the peer through TCP.
 */
import type { WebSocket } from 'ws';
import { ProtocolError } from '../protocol/errors.js';
import { ClosedError } from './errors.js';
import type { FrameHandler } from './link.js';

/** Shared WebSocket tuning. */
export interface WsPipeOptions {
  /** Largest frame accepted or sent, in bytes. */
  maxPayload: number;
  /** Userland send buffer above which senders wait (default 4 MiB). */
  highWaterBytes?: number;
  /** Frames handled concurrently per socket before it is paused (default 64). */
  maxInFlight?: number;
}

/** One socket's send queue and receive loop. */
export class WsPipe {
  private waiters: { resolve(): void; reject(e: Error): void }[] = [];
  private inFlight = 0;
  private paused = false;
  private readonly highWater: number;
  private readonly maxInFlight: number;

  constructor(
    readonly ws: WebSocket,
    private readonly opts: WsPipeOptions,
    private readonly peerName: string,
  ) {
    this.highWater = opts.highWaterBytes ?? 4 * 1024 * 1024;
    this.maxInFlight = opts.maxInFlight ?? 64;
    ws.on('close', () => this.failWaiters());
  }

  /** Sends one binary frame; resolves when ws has written it to the socket. */
  async send(frame: Uint8Array): Promise<void> {
    if (frame.length > this.opts.maxPayload)
      throw new ProtocolError('too_large', `frame of ${frame.length} bytes exceeds the ${this.opts.maxPayload}-byte ws payload limit`);
    while (this.ws.bufferedAmount > this.highWater) {
      if (this.ws.readyState !== this.ws.OPEN) break;
      await new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    }
    if (this.ws.readyState !== this.ws.OPEN) throw new ClosedError(`connection to ${this.peerName} is not open`);
    await new Promise<void>((resolve, reject) => {
      this.ws.send(frame, { binary: true }, (err) => {
        this.wake();
        if (err) reject(new ClosedError(`send to ${this.peerName} failed: ${err.message}`));
        else resolve();
      });
    });
  }

  /**
   * Routes binary messages to `handler`, at most maxInFlight at a time. Beyond that, frames queue and the
   * socket is paused; ws still emits frames it had already parsed, so the queue (not pause alone) is what
   * bounds concurrency, and pause is what bounds the queue.
   */
  receive(handler: () => FrameHandler | undefined, from: string | undefined): void {
    const queue: Uint8Array[] = [];
    const run = (frame: Uint8Array): void => {
      this.inFlight++;
      Promise.resolve()
        .then(() => handler()?.(frame, from))
        .catch(() => {}) // the transport reports its own failures; a link must keep reading
        .finally(() => {
          this.inFlight--;
          const next = queue.shift();
          if (next) run(next);
          else if (this.paused && this.inFlight <= this.maxInFlight / 2) {
            this.paused = false;
            this.ws.resume();
          }
        });
    };
    this.ws.on('message', (data, isBinary) => {
      // Text frames are not part of the protocol; a peer sending them is misbehaving, not fatal.
      if (!isBinary) return;
      const frame = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      if (this.inFlight < this.maxInFlight) return run(frame);
      queue.push(frame);
      if (!this.paused) {
        this.paused = true;
        this.ws.pause();
      }
    });
  }

  private wake(): void {
    if (this.ws.bufferedAmount > this.highWater) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.resolve();
  }

  private failWaiters(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(new ClosedError(`connection to ${this.peerName} closed`));
  }
}
