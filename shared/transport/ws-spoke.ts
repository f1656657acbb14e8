/**
 * WebSocket spoke (the edge-agent side): one connection to the hub, re-established with exponential
 * backoff and jitter whenever it drops. If no ping arrives from the hub for 2.5 heartbeat periods the
 * connection is presumed dead (a silent NAT drop never closes a socket) and is torn down to reconnect.
 */
import { WebSocket } from 'ws';
import { MAX_FRAME_BYTES } from '../protocol/messages.js';
import { ProtocolError } from '../protocol/errors.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { ClosedError, TimeoutError } from './errors.js';
import { Listeners, type FrameHandler, type Link, type LinkEvent } from './link.js';
import { WsPipe, type WsPipeOptions } from './ws-pipe.js';

/** Options of {@link connectWsSpoke}. */
export interface WsSpokeOptions extends Partial<WsPipeOptions> {
  /** The hub's url, e.g. ws://127.0.0.1:8080/distillery */
  url: string;
  id: string;
  hubId: string;
  /** Must match the hub's heartbeatMs. */
  heartbeatMs?: number;
  backoff?: BackoffOptions;
  /** Uniform [0, 1) source for jitter; injectable for tests. */
  random?: () => number;
  /** How long the first connection may take before connectWsSpoke rejects (default 10 s). */
  connectTimeoutMs?: number;
}

/** Connects to a hub, resolving once the first connection is open; reconnects on its own afterwards. */
export async function connectWsSpoke(opts: WsSpokeOptions): Promise<Link> {
  const pipeOpts: WsPipeOptions = { ...opts, maxPayload: opts.maxPayload ?? MAX_FRAME_BYTES };
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const events = new Listeners<LinkEvent>();
  const url = `${opts.url}?id=${encodeURIComponent(opts.id)}`;
  let handler: FrameHandler | undefined;
  let pipe: WsPipe | undefined;
  let current: WebSocket | undefined; // the socket being opened or open
  let closing = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let firstOpen: { resolve(): void } | undefined;

  const connect = (): void => {
    retryTimer = undefined;
    const ws = new WebSocket(url, { maxPayload: pipeOpts.maxPayload });
    current = ws;
    const p = new WsPipe(ws, pipeOpts, opts.hubId);
    let deadTimer: ReturnType<typeof setTimeout> | undefined;
    const armDeadTimer = (): void => {
      clearTimeout(deadTimer);
      deadTimer = setTimeout(() => ws.terminate(), heartbeatMs * 2.5);
    };
    ws.on('open', () => {
      if (closing) return ws.terminate();
      attempt = 0;
      pipe = p;
      armDeadTimer();
      events.emit({ type: 'up', peer: opts.hubId });
      firstOpen?.resolve();
      firstOpen = undefined;
    });
    ws.on('ping', armDeadTimer);
    ws.on('error', () => {}); // 'close' follows and drives the reconnect
    ws.on('close', (code, reason) => {
      clearTimeout(deadTimer);
      if (pipe === p) {
        pipe = undefined;
        events.emit({ type: 'down', peer: opts.hubId, reason: `closed (${code}${reason.length ? ` ${reason.toString()}` : ''})` });
      }
      if (!closing) retryTimer = setTimeout(connect, backoffDelay(attempt++, opts.backoff, opts.random));
    });
    p.receive(() => handler, opts.hubId);
  };

  const link: Link = {
    localId: opts.id,
    async send(to, frame) {
      if (to !== opts.hubId) throw new ProtocolError('unknown_peer', `a ws spoke only reaches its hub ${opts.hubId}, not ${to}`);
      if (!pipe) throw new ClosedError(`not connected to ${opts.hubId}`);
      await pipe.send(frame);
    },
    onFrame(h) {
      handler = h;
    },
    onEvent: (l) => events.add(l),
    async close() {
      if (closing) return;
      closing = true;
      clearTimeout(retryTimer);
      pipe = undefined;
      if (current && current.readyState !== current.CLOSED) current.terminate();
      events.emit({ type: 'down', peer: opts.hubId, reason: 'spoke closed' });
    },
  };

  const opened = new Promise<void>((resolve) => (firstOpen = { resolve }));
  connect();
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`could not connect to ${opts.url} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([opened, timedOut]);
  } catch (e) {
    await link.close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return link;
}
