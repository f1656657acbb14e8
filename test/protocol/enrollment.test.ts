/** Enrollment end to end: token, operator approval, unknown and revoked devices, over real transports. */
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../shared/protocol/clock.js';
import { answerEnrollment } from '../../shared/security/enrollment.js';
import { generateIdentity, publicIdentity, type Identity } from '../../shared/security/keys.js';
import { MemoryRegistry, pinnedDirectory } from '../../shared/security/registry.js';
import { SecureChannel } from '../../shared/security/channel.js';
import { TimeoutError } from '../../shared/transport/errors.js';
import { createMemoryNetwork } from '../../shared/transport/memory.js';
import { createTransport, type Transport } from '../../shared/transport/transport.js';
import { listenWsHub } from '../../shared/transport/ws-hub.js';
import { connectWsSpoke } from '../../shared/transport/ws-spoke.js';
import { waitFor } from './helpers/contract.js';
import { captureLogger } from './helpers/peers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

function coordinatorSide() {
  const clock = manualClock(Date.now());
  const coordinator = generateIdentity();
  const registry = new MemoryRegistry();
  const logger = captureLogger();
  const channel = new SecureChannel({ identity: coordinator, directory: registry, acceptEnrollment: true, clock, logger });
  const serve = (t: Transport) =>
    t.handle((m) => {
      if (m.type === 'enroll.request') return answerEnrollment(registry, m, { fleet: 'orchard', clock });
      if (m.type === 'health.ping') return { type: 'health.pong', body: {} };
    });
  return { clock, coordinator, registry, logger, channel, serve };
}

const agentChannel = (device: Identity, coordinator: Identity, clock = manualClock(Date.now())) =>
  new SecureChannel({ identity: device, directory: pinnedDirectory([publicIdentity(coordinator)]), clock, logger: captureLogger() });

function memoryWorld() {
  const c = coordinatorSide();
  const net = createMemoryNetwork();
  const hub = createTransport(net.connect(c.coordinator.id), c.channel, { logger: c.logger });
  c.serve(hub);
  cleanups.push(() => hub.close());
  const join = (device: Identity) => {
    const t = createTransport(net.connect(device.id), agentChannel(device, c.coordinator, c.clock), { timeoutMs: 200, logger: captureLogger() });
    cleanups.push(() => t.close());
    return t;
  };
  return { ...c, hub, join };
}

const ping = { type: 'health.ping', body: {} } as const;

describe('enrollment', () => {
  it('admits a device with a one-time token', async () => {
    const w = memoryWorld();
    const device = generateIdentity();
    const agent = w.join(device);
    const token = w.registry.issueToken({ ttlMs: 60_000, now: w.clock.now() });
    const reply = await agent.request(w.coordinator.id, { type: 'enroll.request', body: { token } });
    expect(reply).toMatchObject({ type: 'enroll.accept', body: { deviceId: device.id, fleet: 'orchard' } });
    expect((await agent.request(w.coordinator.id, ping)).type).toBe('health.pong');
  });

  it('refuses an unknown device, holds a tokenless one as pending, and admits it once approved', async () => {
    const w = memoryWorld();
    const device = generateIdentity();
    const agent = w.join(device);
    await expect(agent.request(w.coordinator.id, ping)).rejects.toBeInstanceOf(TimeoutError);
    expect(w.channel.stats().rejected.unknown_sender).toBe(1);
    expect((await agent.request(w.coordinator.id, { type: 'enroll.request', body: {} })).type).toBe('enroll.pending');
    await expect(agent.request(w.coordinator.id, ping)).rejects.toBeInstanceOf(TimeoutError);
    expect(w.channel.stats().rejected.not_enrolled).toBe(1);
    w.registry.approve(device.id, w.clock.now());
    expect((await agent.request(w.coordinator.id, { type: 'enroll.request', body: {} })).type).toBe('enroll.accept');
    expect((await agent.request(w.coordinator.id, ping)).type).toBe('health.pong');
  });

  it('answers a bad token with an error body rather than silence', async () => {
    const w = memoryWorld();
    const agent = w.join(generateIdentity());
    const reply = await agent.request(w.coordinator.id, { type: 'enroll.request', body: { token: 'dt_guess' } });
    expect(reply).toMatchObject({ type: 'error', body: { code: 'enroll_bad_token' } });
  });

  it('cuts off a revoked device: its frames are refused and the hub cannot seal to it', async () => {
    const w = memoryWorld();
    const device = generateIdentity();
    w.registry.preapprove(publicIdentity(device), w.clock.now());
    const agent = w.join(device);
    expect((await agent.request(w.coordinator.id, ping)).type).toBe('health.pong');
    w.registry.revoke(device.id, 'reported stolen', w.clock.now());
    await expect(agent.request(w.coordinator.id, ping)).rejects.toBeInstanceOf(TimeoutError);
    await expect(agent.request(w.coordinator.id, { type: 'enroll.request', body: {} })).rejects.toBeInstanceOf(TimeoutError);
    expect(w.channel.stats().rejected.revoked_sender).toBe(2);
    await expect(w.hub.request(device.id, ping)).rejects.toThrow(/revoked/);
  });

  it('drops a revoked device’s WebSocket connection when the coordinator disconnects it', async () => {
    const c = coordinatorSide();
    const device = generateIdentity();
    c.registry.preapprove(publicIdentity(device), c.clock.now());
    const wsHub = await listenWsHub({ id: c.coordinator.id });
    const hub = createTransport(wsHub, c.channel, { logger: c.logger });
    c.serve(hub);
    cleanups.push(() => hub.close());
    const link = await connectWsSpoke({ url: wsHub.url, id: device.id, hubId: c.coordinator.id, backoff: { initialMs: 5000, maxMs: 5000 } });
    const agent = createTransport(link, agentChannel(device, c.coordinator, c.clock), { timeoutMs: 300, logger: captureLogger() });
    cleanups.push(() => agent.close());
    expect((await agent.request(c.coordinator.id, ping)).type).toBe('health.pong');
    c.registry.revoke(device.id, 'decommissioned', c.clock.now());
    wsHub.disconnect(device.id, 'revoked');
    await waitFor(() => !wsHub.peers().includes(device.id), 2000, 'the connection to drop');
  });
});
