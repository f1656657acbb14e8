/**
 * The transport contract: one suite, run over every link (ws, MQTT with aedes, MQTT with Mosquitto,
 * in-memory). Each test wires a coordinator and devices with real keys through the secure channel.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../shared/protocol/clock.js';
import type { AnyEnvelope } from '../../../shared/protocol/envelope.js';
import { decodeTensor, encodeTensor, float16Tensor, float32Tensor } from '../../../shared/protocol/tensor.js';
import { seededRandom } from '../../../shared/random.js';
import type { SecureChannel } from '../../../shared/security/channel.js';
import { ClosedError, TimeoutError } from '../../../shared/transport/errors.js';
import type { Link } from '../../../shared/transport/link.js';
import { createTransport, type Transport, type TransportEvent } from '../../../shared/transport/transport.js';
import type { LinkFixture } from './fixtures.js';
import { captureLogger, makeFleet } from './peers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Settles a promise into its error (or undefined), so rejections that happen early are never "unhandled". */
const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

/** Polls until `pred` holds, failing after `timeoutMs`. */
export async function waitFor(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Resolves when the transport reports `type` for `peer`. */
function nextEvent(t: Transport, type: 'up' | 'down', peer?: string): Promise<TransportEvent> {
  return new Promise((resolve) => {
    const off = t.onEvent((e) => {
      if (e.type === type && (peer === undefined || ('peer' in e && e.peer === peer))) {
        off();
        resolve(e);
      }
    });
  });
}

const query = (temperature: number) => ({
  type: 'round.query' as const,
  body: { inputs: encodeTensor(float32Tensor(new Float32Array([temperature, 1, 2]), [1, 3])), temperature, deadlineMs: 1000 },
});

export function transportContract(fx: LinkFixture): void {
  describe(`transport contract over ${fx.name}`, () => {
    let fleetNo = 0;
    const cleanups: (() => Promise<void>)[] = [];
    beforeAll(() => fx.setup(), 15_000);
    afterAll(() => fx.teardown());
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
    });

    async function world(n: number) {
      const fleet = makeFleet(n, systemClock);
      const name = `f${process.pid}x${++fleetNo}`;
      const hubChannel = fleet.coordinatorChannel();
      const hub = createTransport(await fx.hub(fleet.coordinator.id, name), hubChannel, { timeoutMs: 3000, logger: captureLogger() });
      cleanups.push(() => hub.close());
      const links: Link[] = [];
      const channels: SecureChannel[] = [];
      const devices: Transport[] = [];
      for (const d of fleet.devices) {
        const link = await fx.spoke(d.id, fleet.coordinator.id, name);
        const channel = fleet.deviceChannel(d);
        const t = createTransport(link, channel, { timeoutMs: 3000, logger: captureLogger() });
        cleanups.push(() => t.close());
        links.push(link);
        channels.push(channel);
        devices.push(t);
      }
      return { ...fleet, hub, hubChannel, links, channels, deviceTransports: devices };
    }

    it('answers a device request with the hub reply', async () => {
      const w = await world(1);
      w.hub.handle((m) => (m.type === 'health.ping' ? { type: 'health.pong', body: {} } : undefined));
      const reply = await w.deviceTransports[0].request(w.coordinator.id, { type: 'health.ping', body: {} });
      expect(reply.type).toBe('health.pong');
      expect(reply.sender).toBe(w.coordinator.id);
      expect(reply.to).toBe(w.devices[0].id);
    });

    it('carries a round query to a device and its float16 soft labels back bit-exactly', async () => {
      const w = await world(1);
      const rnd = seededRandom(7);
      const logits = float16Tensor(Float32Array.from({ length: 256 * 10 }, () => rnd.normal() * 4), [256, 10]);
      w.deviceTransports[0].handle((m) => (m.type === 'round.query' ? { type: 'round.reply', body: { logits: encodeTensor(logits) } } : undefined));
      const reply = await w.hub.request(w.devices[0].id, { ...query(2), round: 3 });
      expect(reply.type).toBe('round.reply');
      const got = decodeTensor((reply as AnyEnvelope & { type: 'round.reply' }).body.logits);
      expect(got.dtype).toBe('float16');
      expect(got.shape).toEqual([256, 10]);
      expect(Array.from(got.data)).toEqual(Array.from(logits.data));
    });

    it('delivers one-way messages once each, in order', async () => {
      const w = await world(1);
      const got: number[] = [];
      w.hub.handle((m) => {
        if (m.type === 'telemetry.report') got.push(m.body.metrics.i);
      });
      for (let i = 0; i < 30; i++) await w.deviceTransports[0].send(w.coordinator.id, { type: 'telemetry.report', body: { metrics: { i } } });
      await waitFor(() => got.length >= 30, 3000, '30 telemetry reports');
      await sleep(100);
      expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i));
    });

    it('matches 50 concurrent requests over two devices to their own replies', async () => {
      const w = await world(2);
      for (const t of w.deviceTransports)
        t.handle(async (m) => {
          if (m.type !== 'round.query') return;
          await sleep(Math.floor(m.body.temperature * 7) % 20); // reorder the answers
          return { type: 'round.reply', body: { logits: encodeTensor(float32Tensor(new Float32Array([m.body.temperature]), [1, 1])) } };
        });
      const temps = Array.from({ length: 50 }, (_, i) => 1 + i / 10);
      const replies = await Promise.all(temps.map((t, i) => w.hub.request(w.devices[i % 2].id, query(t))));
      replies.forEach((r, i) => {
        expect(r.sender).toBe(w.devices[i % 2].id);
        expect(r.type === 'round.reply' && decodeTensor(r.body.logits).data[0]).toBeCloseTo(temps[i], 5);
      });
    });

    it('answers with an error body when a handler throws, is missing or returns an invalid body', async () => {
      const w = await world(2);
      w.deviceTransports[0].handle(() => {
        throw new Error('teacher model not loaded');
      });
      const failed = await w.hub.request(w.devices[0].id, query(1));
      expect(failed.type).toBe('error');
      expect(failed.body).toEqual({ code: 'handler_failed', reason: 'teacher model not loaded' });
      const unsupported = await w.hub.request(w.devices[1].id, { type: 'health.ping', body: {} });
      expect(unsupported.type === 'error' && unsupported.body.code).toBe('unsupported');
      w.deviceTransports[1].handle(() => ({ type: 'health.pong', body: { extra: 1 } as never }));
      const invalid = await w.hub.request(w.devices[1].id, { type: 'health.ping', body: {} });
      expect(invalid.type === 'error' && invalid.body.code).toBe('bad_answer');
    });

    it('rejects an unanswered request with TimeoutError at its deadline and drops the late reply', async () => {
      const w = await world(1);
      w.deviceTransports[0].handle(async () => {
        await sleep(400);
        return { type: 'health.pong', body: {} };
      });
      const t0 = Date.now();
      await expect(w.hub.request(w.devices[0].id, { type: 'health.ping', body: {} }, { timeoutMs: 150 })).rejects.toBeInstanceOf(TimeoutError);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      expect(Date.now() - t0).toBeLessThan(1500); // generous: a loaded CI box delays timers, but never hangs
      await waitFor(() => w.hub.stats().lateReplies === 1, 2000, 'the late reply');
    });

    it('fails pending requests with ClosedError on close() and refuses later sends', async () => {
      const w = await world(1);
      w.deviceTransports[0].handle(() => new Promise(() => {})); // never answers
      const pending = failure(w.hub.request(w.devices[0].id, { type: 'health.ping', body: {} }, { timeoutMs: 10_000 }));
      await sleep(30);
      const t0 = Date.now();
      await w.hub.close();
      expect(await pending).toBeInstanceOf(ClosedError);
      expect(Date.now() - t0).toBeLessThan(1000);
      await expect(w.hub.send(w.devices[0].id, { type: 'health.ping', body: {} })).rejects.toBeInstanceOf(ClosedError);
    });

    it('fails requests in flight with ClosedError when a connection drops, then works again after reconnecting', async () => {
      const w = await world(1);
      const [dev] = w.deviceTransports;
      const devId = w.devices[0].id;
      dev.handle(async () => {
        await sleep(500);
        return { type: 'round.reply', body: { logits: encodeTensor(float32Tensor(new Float32Array([1]), [1, 1])) } };
      });
      w.hub.handle(async () => {
        await sleep(500);
        return { type: 'health.pong', body: {} };
      });
      const fromHub = failure(w.hub.request(devId, query(1), { timeoutMs: 5000 }));
      const fromDevice = failure(dev.request(w.coordinator.id, { type: 'health.ping', body: {} }, { timeoutMs: 5000 }));
      const back = nextEvent(dev, 'up');
      await sleep(50);
      const t0 = Date.now();
      fx.interrupt(devId);
      expect(await fromHub).toBeInstanceOf(ClosedError);
      expect(await fromDevice).toBeInstanceOf(ClosedError);
      expect(Date.now() - t0).toBeLessThan(1500);
      await back;
      dev.handle((m) => (m.type === 'health.ping' ? { type: 'health.pong', body: {} } : undefined));
      w.hub.handle((m) => (m.type === 'health.ping' ? { type: 'health.pong', body: {} } : undefined));
      expect((await dev.request(w.coordinator.id, { type: 'health.ping', body: {} })).type).toBe('health.pong');
      expect((await w.hub.request(devId, { type: 'health.ping', body: {} })).type).toBe('health.pong');
    });

    it('keeps serving other devices while one sends garbage', async () => {
      const w = await world(2);
      w.hub.handle((m) => (m.type === 'health.ping' ? { type: 'health.pong', body: {} } : undefined));
      const rejected: string[] = [];
      w.hub.onEvent((e) => {
        if (e.type === 'rejected') rejected.push(e.code);
      });
      const rnd = seededRandom(11);
      const junk = Array.from({ length: 20 }, (_, i) => Uint8Array.from({ length: 70 + i * 13 }, () => rnd.int(256)));
      await Promise.all(junk.map((j) => w.links[0].send(w.coordinator.id, j)));
      const reply = await w.deviceTransports[1].request(w.coordinator.id, { type: 'health.ping', body: {} });
      expect(reply.type).toBe('health.pong');
      await waitFor(() => rejected.length === 20, 3000, '20 rejections');
      expect(w.hubChannel.stats().rejected.malformed).toBe(20);
      expect(w.hubChannel.stats().accepted).toBe(1);
      // Unauthenticated junk gets no answer (no oracle), and the sender's own channel saw nothing.
      expect(w.channels[0].stats().accepted).toBe(0);
    });
  });
}
