/** WebSocket specifics beyond the contract: heartbeats, payload limits, backpressure, routing by id. */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ProtocolError } from '../../shared/protocol/errors.js';
import { seededRandom } from '../../shared/random.js';
import type { Link, LinkEvent } from '../../shared/transport/link.js';
import { listenWsHub, type WsHub } from '../../shared/transport/ws-hub.js';
import { connectWsSpoke } from '../../shared/transport/ws-spoke.js';
import { waitFor } from './helpers/contract.js';
import { startProxy, type Proxy } from './helpers/proxy.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
const track = <T extends { close(): Promise<unknown> }>(x: T): T => {
  cleanups.push(() => x.close());
  return x;
};
const events = (l: Link): LinkEvent[] => {
  const out: LinkEvent[] = [];
  l.onEvent((e) => out.push(e));
  return out;
};
const fast = { initialMs: 20, maxMs: 100 };

async function pair(hubOpts: Partial<Parameters<typeof listenWsHub>[0]> = {}, spokeOpts: Partial<Parameters<typeof connectWsSpoke>[0]> = {}) {
  const hub: WsHub = track(await listenWsHub({ id: 'hub', ...hubOpts }));
  const proxy: Proxy = track(await startProxy(hub.port));
  const spoke = track(await connectWsSpoke({ url: `ws://127.0.0.1:${proxy.port}/distillery`, id: 'dev1', hubId: 'hub', backoff: fast, ...spokeOpts }));
  await waitFor(() => hub.peers().includes('dev1'), 2000, 'hub to see dev1');
  return { hub, proxy, spoke };
}

describe('ws link', () => {
  it('detects a silently dead connection by heartbeat on both sides, then recovers', async () => {
    const { hub, proxy, spoke } = await pair({ heartbeatMs: 100 }, { heartbeatMs: 100 });
    const hubEvents = events(hub);
    const spokeEvents = events(spoke);
    const t0 = Date.now();
    proxy.freeze(); // no FIN, no RST: only heartbeats can notice
    await waitFor(() => hubEvents.some((e) => e.type === 'down' && e.peer === 'dev1'), 2000, 'hub to drop dev1');
    await waitFor(() => spokeEvents.some((e) => e.type === 'down'), 2000, 'spoke to drop the hub');
    expect(Date.now() - t0).toBeLessThan(1500);
    proxy.thaw();
    await waitFor(() => spokeEvents.some((e) => e.type === 'up') && hub.peers().includes('dev1'), 3000, 'reconnection');
  });

  it('refuses oversized frames: before sending, and by closing a peer that sends one anyway', async () => {
    const { hub, spoke } = await pair({ maxPayload: 1024 });
    const received: Uint8Array[] = [];
    hub.onFrame((f) => void received.push(f));
    const limited = track(await connectWsSpoke({ url: hub.url, id: 'dev2', hubId: 'hub', maxPayload: 1024, backoff: fast }));
    await expect(limited.send('hub', new Uint8Array(1025))).rejects.toThrow(ProtocolError);
    const spokeEvents = events(spoke);
    await spoke.send('hub', new Uint8Array(2000)); // spoke allows it; the hub must not
    await waitFor(() => spokeEvents.some((e) => e.type === 'down'), 2000, 'hub to close the offender');
    await spoke.send('hub', new Uint8Array(1000)).catch(() => {});
    await limited.send('hub', new Uint8Array(1000));
    await waitFor(() => received.length >= 1, 2000, 'the in-limit frame');
    expect(received.every((f) => f.length === 1000)).toBe(true);
  });

  it('makes senders wait while a slow peer is not reading, and delivers everything afterwards', async () => {
    const { hub, proxy, spoke } = await pair({ highWaterBytes: 1 << 20 });
    const got: number[] = [];
    spoke.onFrame((f) => void got.push(f[0]));
    proxy.stall();
    const frame = (i: number) => new Uint8Array(1 << 20).fill(i);
    let sent = 0;
    const sends = Array.from({ length: 40 }, (_, i) => hub.send('dev1', frame(i)).then(() => sent++));
    await new Promise((r) => setTimeout(r, 400));
    expect(sent).toBeLessThan(25); // 40 MiB cannot all be buffered: the rest wait
    proxy.unstall();
    await Promise.all(sends);
    await waitFor(() => got.length === 40, 10_000, 'all 40 frames');
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('bounds concurrent inbound handlers by pausing the socket', async () => {
    const { hub, spoke } = await pair({ maxInFlight: 8 });
    let active = 0;
    let peak = 0;
    let done = 0;
    hub.onFrame(async () => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      done++;
    });
    await Promise.all(Array.from({ length: 200 }, () => spoke.send('hub', new Uint8Array(16))));
    await waitFor(() => done === 200, 5000, '200 handled frames');
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBe(8);
  });

  it('closes connections without a valid id and routes to the newest connection of an id', async () => {
    const hub = track(await listenWsHub({ id: 'hub' }));
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${hub.url}?id=a/b`);
      ws.on('close', (c) => resolve(c));
      ws.on('error', () => {});
    });
    expect(code).toBe(1008);
    const first = track(await connectWsSpoke({ url: hub.url, id: 'dup', hubId: 'hub', backoff: { initialMs: 5000, maxMs: 5000 } }));
    const hubEvents = events(hub);
    const firstGot: Uint8Array[] = [];
    first.onFrame((f) => void firstGot.push(f));
    const second = track(await connectWsSpoke({ url: hub.url, id: 'dup', hubId: 'hub' }));
    const secondGot: Uint8Array[] = [];
    second.onFrame((f) => void secondGot.push(f));
    await new Promise((r) => setTimeout(r, 50));
    await hub.send('dup', new Uint8Array([7]));
    await waitFor(() => secondGot.length === 1, 2000, 'frame on the newest connection');
    expect(firstGot).toHaveLength(0);
    expect(hubEvents.filter((e) => e.type === 'down')).toHaveLength(0); // replacement is not a disconnect
  });

  it('reconnects with backoff when the hub comes back on the same port', async () => {
    const hub = await listenWsHub({ id: 'hub' });
    const rnd = seededRandom(4);
    const spoke = track(await connectWsSpoke({ url: hub.url, id: 'dev1', hubId: 'hub', backoff: fast, random: () => rnd.next() }));
    const ev = events(spoke);
    const port = hub.port;
    await hub.close();
    await waitFor(() => ev.some((e) => e.type === 'down'), 2000, 'spoke to notice');
    await expect(spoke.send('hub', new Uint8Array([1]))).rejects.toThrow(/not connected/);
    await new Promise((r) => setTimeout(r, 300)); // several failed attempts happen here
    const again = track(await listenWsHub({ id: 'hub', port }));
    await waitFor(() => ev.some((e) => e.type === 'up') && again.peers().includes('dev1'), 3000, 'reconnection');
  });
});
