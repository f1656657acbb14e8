/** MQTT specifics beyond the contract: embedded broker, topic layout, retained and duplicate frames, presence. */
import { connect as netConnect } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError } from '../../shared/protocol/errors.js';
import type { LinkEvent } from '../../shared/transport/link.js';
import { connectMqttHub, connectMqttSpoke } from '../../shared/transport/mqtt-link.js';
import { topicLayout } from '../../shared/transport/topics.js';
import { createTransport } from '../../shared/transport/transport.js';
import { waitFor } from './helpers/contract.js';
import { startMosquitto } from './helpers/mosquitto.js';
import { captureLogger, makeFleet } from './helpers/peers.js';
import { systemClock } from '../../shared/protocol/clock.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
const track = <T extends { close(): Promise<unknown> } | { endAsync(): Promise<unknown> }>(x: T): T => {
  cleanups.push(() => ('close' in x ? x.close() : x.endAsync()));
  return x;
};

describe('topic layout', () => {
  it('builds per-device topics and parses them back', () => {
    const t = topicLayout('greenhouse');
    expect(t.inbox('d1')).toBe('distillery/greenhouse/d1/in');
    expect(t.outbox('d1')).toBe('distillery/greenhouse/d1/out');
    expect(t.allOutboxes).toBe('distillery/greenhouse/+/out');
    expect(t.parse('distillery/greenhouse/d1/status')).toEqual({ device: 'd1', kind: 'status' });
    expect(t.parse('distillery/other/d1/in')).toBeUndefined();
    expect(t.parse('distillery/greenhouse/d1/in/extra')).toBeUndefined();
  });

  it.each(['+', '#', 'a/b', ''])('refuses the id %j, which would widen a subscription', (id) => {
    expect(() => topicLayout('f').inbox(id)).toThrow(ProtocolError);
    expect(() => topicLayout(id)).toThrow(/fleet/);
  });
});

describe('mqtt link', () => {
  it('starts an embedded aedes broker on loopback when no URL is given, and stops it on close', async () => {
    const hub = await connectMqttHub({ fleet: 'f', id: 'hub' });
    const url = new URL(hub.brokerUrl);
    expect(url.hostname).toBe('127.0.0.1');
    await hub.close();
    const refused = await new Promise<boolean>((resolve) => {
      const s = netConnect(Number(url.port), '127.0.0.1', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('ignores retained frames and drops QoS 1 duplicates before they reach the channel', async () => {
    const fleet = makeFleet(1, systemClock);
    const [dev] = fleet.devices;
    const hubLink = track(await connectMqttHub({ fleet: 'rf', id: fleet.coordinator.id }));
    const layout = topicLayout('rf');
    const raw = track(await mqtt.connectAsync(hubLink.brokerUrl));
    // A stale frame left retained on the device's inbox before it connects.
    const stale = fleet.coordinatorChannel().seal(dev.id, { type: 'health.ping', body: {} }).frame;
    await raw.publishAsync(layout.inbox(dev.id), Buffer.from(stale), { qos: 1, retain: true });
    const spokeLink = track(await connectMqttSpoke({ url: hubLink.brokerUrl, fleet: 'rf', id: dev.id, hubId: fleet.coordinator.id }));
    const devLog = captureLogger();
    const devT = track(createTransport(spokeLink, fleet.deviceChannel(dev, devLog), { logger: devLog }));
    const devGot: string[] = [];
    devT.handle((m) => void devGot.push(m.type));
    await waitFor(() => spokeLink.drops().retained === 1, 2000, 'the retained frame to be dropped');
    // The same frame published twice, as a QoS 1 redelivery would.
    const hubLog = captureLogger();
    const hubChannel = fleet.coordinatorChannel(hubLog);
    const hubT = track(createTransport(hubLink, hubChannel, { logger: hubLog }));
    const hubGot: number[] = [];
    hubT.handle((m) => void (m.type === 'telemetry.report' && hubGot.push(m.body.metrics.n)));
    const once = fleet.deviceChannel(dev).seal(fleet.coordinator.id, { type: 'telemetry.report', body: { metrics: { n: 1 } } }).frame;
    await raw.publishAsync(layout.outbox(dev.id), Buffer.from(once), { qos: 1 });
    await raw.publishAsync(layout.outbox(dev.id), Buffer.from(once), { qos: 1 });
    await waitFor(() => hubLink.drops().duplicate === 1, 2000, 'the duplicate to be dropped');
    expect(hubGot).toEqual([1]);
    expect(hubChannel.stats().rejected).toEqual({}); // never reached replay protection
    expect(devGot).toEqual([]);
    expect(devLog.lines).toEqual([]);
  });

  it('bounds concurrent handlers without blocking the acks their replies wait for', async () => {
    const fleet = makeFleet(1, systemClock);
    const [dev] = fleet.devices;
    const hubLink = track(await connectMqttHub({ fleet: 'cf', id: fleet.coordinator.id, maxInFlight: 4 }));
    const hub = track(createTransport(hubLink, fleet.coordinatorChannel(), { logger: captureLogger() }));
    let active = 0;
    let peak = 0;
    hub.handle(async () => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 10));
      active--;
      return { type: 'health.pong', body: {} };
    });
    const spoke = track(await connectMqttSpoke({ url: hubLink.brokerUrl, fleet: 'cf', id: dev.id, hubId: fleet.coordinator.id }));
    const agent = track(createTransport(spoke, fleet.deviceChannel(dev), { timeoutMs: 3000, logger: captureLogger() }));
    const replies = await Promise.all(Array.from({ length: 40 }, () => agent.request(fleet.coordinator.id, { type: 'health.ping', body: {} })));
    expect(replies.every((r) => r.type === 'health.pong')).toBe(true);
    expect(peak).toBe(4);
  });

  it('learns device presence from status topics and the last will', async () => {
    const hub = track(await connectMqttHub({ fleet: 'pf', id: 'hub' }));
    const ev: LinkEvent[] = [];
    hub.onEvent((e) => ev.push(e));
    const spoke = await connectMqttSpoke({ url: hub.brokerUrl, fleet: 'pf', id: 'd1', hubId: 'hub' });
    await waitFor(() => hub.peers().includes('d1'), 2000, 'd1 online');
    await spoke.close();
    await waitFor(() => ev.some((e) => e.type === 'down' && e.peer === 'd1'), 2000, 'd1 offline');
    expect(hub.peers()).toEqual([]);
  });

  it('refuses, before publishing, a frame over the limit or for a peer a spoke cannot reach', async () => {
    const hub = track(await connectMqttHub({ fleet: 'lf', id: 'hub' }));
    const spoke = track(await connectMqttSpoke({ url: hub.brokerUrl, fleet: 'lf', id: 'd1', hubId: 'hub', maxFrameBytes: 100 }));
    await expect(spoke.send('hub', new Uint8Array(101))).rejects.toThrow(/exceeds 100/);
    await expect(spoke.send('d2', new Uint8Array(10))).rejects.toThrow(/only reaches its hub/);
  });

  it('times out cleanly when no broker answers', async () => {
    const t0 = Date.now();
    await expect(connectMqttSpoke({ url: 'mqtt://127.0.0.1:1', fleet: 'f', id: 'd', hubId: 'h', connectTimeoutMs: 300, backoff: { initialMs: 20, maxMs: 50 } })).rejects.toThrow(/within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('fails the real-broker suites with a clear message when Mosquitto is missing', async () => {
    await expect(startMosquitto({ MOSQUITTO_BIN: '/nonexistent/mosquitto' })).rejects.toThrow(/Mosquitto not found .*Install the Debian package "mosquitto"/);
  });
});
