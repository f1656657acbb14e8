/**
 * WebSocket hub (the coordinator side). Devices connect to `ws://host:port/distillery?id=<deviceId>`;
 * frames to a device go to its newest connection. The id in the URL is only a routing claim: every frame
 * is still signed, and the transport refuses frames whose signed sender differs from the socket's id.
 * Heartbeats: the hub pings every heartbeatMs and terminates sockets that missed the previous pong.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_FRAME_BYTES, PEER_ID_PATTERN } from '../protocol/messages.js';
import { ClosedError } from './errors.js';
import { Listeners, type FrameHandler, type Link, type LinkEvent } from './link.js';
import { WsPipe, type WsPipeOptions } from './ws-pipe.js';

/** Options of {@link listenWsHub}. */
export interface WsHubOptions extends Partial<WsPipeOptions> {
  id: string;
  /** Loopback by default; bind wider only behind TLS termination. */
  host?: string;
  port?: number;
  path?: string;
  heartbeatMs?: number;
}

/** A listening hub link. */
export interface WsHub extends Link {
  readonly url: string;
  readonly port: number;
  /** Ids with an open connection. */
  peers(): string[];
  /** Drops a device's connection (e.g. after revoking it). */
  disconnect(peer: string, reason?: string): void;
}

/** Starts a WebSocket hub and resolves once it listens. */
export async function listenWsHub(opts: WsHubOptions): Promise<WsHub> {
  const path = opts.path ?? '/distillery';
  const pipeOpts: WsPipeOptions = { ...opts, maxPayload: opts.maxPayload ?? MAX_FRAME_BYTES };
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const wss = new WebSocketServer({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0, path, maxPayload: pipeOpts.maxPayload });
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  const pipes = new Map<string, WsPipe>();
  const alive = new WeakMap<WebSocket, boolean>();
  const events = new Listeners<LinkEvent>();
  let handler: FrameHandler | undefined;
  let closing = false;

  wss.on('connection', (ws, req) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    if (!PEER_ID_PATTERN.test(id)) {
      ws.close(1008, 'missing or invalid id');
      return;
    }
    const pipe = new WsPipe(ws, pipeOpts, id);
    const previous = pipes.get(id);
    pipes.set(id, pipe);
    previous?.ws.close(4000, 'replaced by a newer connection');
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', () => {}); // 'close' follows; an unheard 'error' would crash the process
    ws.on('close', () => {
      if (pipes.get(id) !== pipe) return; // a replaced connection going away is not the peer going down
      pipes.delete(id);
      if (!closing) events.emit({ type: 'down', peer: id, reason: 'connection closed' });
    });
    pipe.receive(() => handler, id);
    events.emit({ type: 'up', peer: id });
  });

  const heartbeat = setInterval(() => {
    for (const pipe of pipes.values()) {
      if (!alive.get(pipe.ws)) {
        pipe.ws.terminate();
        continue;
      }
      alive.set(pipe.ws, false);
      pipe.ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  return {
    localId: opts.id,
    url: `ws://${opts.host ?? '127.0.0.1'}:${port}${path}`,
    port,
    peers: () => [...pipes.keys()],
    disconnect(peer, reason = 'disconnected by hub') {
      pipes.get(peer)?.ws.close(4001, reason.slice(0, 100));
    },
    async send(to, frame) {
      const pipe = pipes.get(to);
      if (!pipe) throw new ClosedError(`no connection to ${to}`);
      await pipe.send(frame);
    },
    onFrame(h) {
      handler = h;
    },
    onEvent: (l) => events.add(l),
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeat);
      for (const pipe of pipes.values()) pipe.ws.terminate();
      pipes.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      events.emit({ type: 'down', reason: 'hub closed' });
    },
  };
}
