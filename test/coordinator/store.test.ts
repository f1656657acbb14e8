/**
 * The SQLite fleet registry: enrollment decisions are the reference registry's and survive a reopen;
 * capabilities, label histograms, last seen and byte counters are kept per device; the audit log takes
 * every frame a coordinator seals or opens and refuses to be edited.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { FleetStore } from '../../coordinator/store.js';
import { observedCodec } from '../../coordinator/observed-codec.js';
import { generateIdentity, publicIdentity } from '../../shared/security/keys.js';
import { pinnedDirectory, SecureChannel } from '../../shared/security/index.js';
import { manualClock } from '../../shared/protocol/clock.js';
import { captureLogger } from '../protocol/helpers/peers.js';

const dirs: string[] = [];
const dbFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'distillery-store-'));
  dirs.push(dir);
  return join(dir, 'fleet.db');
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const dev = () => publicIdentity(generateIdentity());
const caps = { numClasses: 3, inputShape: [4], labelHistogram: [5, 0, 2], hasBatchNorm: false, gradients: true, backend: 'wasm', memoryMB: 128, modelSpec: '{"kind":"mlp"}' };

describe('SQLite fleet store', () => {
  it('keeps devices, keys, enrollment state and tokens across a reopen', () => {
    const file = dbFile();
    const s = new FleetStore(file);
    const [a, b, c, d] = [dev(), dev(), dev(), dev()];
    const token = s.issueToken({ ttlMs: 60_000, now: 0 });
    const unused = s.issueToken({ ttlMs: 60_000, now: 0 });
    expect(s.enroll({ ...a, token }, 1).status).toBe('accepted');
    expect(s.enroll(b, 2).status).toBe('pending');
    s.preapprove(c, 3);
    s.preapprove(d, 3);
    s.revoke(d.id, 'stolen', 4);
    s.close();

    const again = new FleetStore(file);
    expect(again.lookup(a.id)).toMatchObject({ status: 'active', signPublicKey: a.signPublicKey, boxPublicKey: a.boxPublicKey });
    expect(again.lookup(b.id)?.status).toBe('pending');
    expect(again.lookup(d.id)).toMatchObject({ status: 'revoked', reason: 'stolen' });
    expect(again.enroll({ ...dev(), token }, 5)).toMatchObject({ status: 'refused', code: 'bad_token' }); // used once already
    expect(again.enroll({ ...dev(), token: unused }, 5).status).toBe('accepted'); // still valid after reopen
    expect(again.enroll({ ...d, token: again.issueToken({ ttlMs: 1000, now: 5 }) }, 6)).toMatchObject({ status: 'refused', code: 'revoked' });
    expect(again.enroll({ ...dev(), id: c.id }, 7)).toMatchObject({ status: 'refused', code: 'key_mismatch' });
    expect(() => again.approve('nobody', 8)).toThrow(/no device nobody/);
    expect(again.list()).toHaveLength(5);
    again.close();
  });

  it('stores capabilities with the label histogram, traffic counters and last seen', () => {
    const s = new FleetStore(dbFile());
    const a = dev();
    s.preapprove(a, 0);
    s.setCapabilities(a.id, caps, 10);
    s.addTraffic(a.id, { bytesIn: 100, bytesOut: 40, framesIn: 2, framesOut: 1, lastSeen: 50 });
    s.addTraffic(a.id, { bytesIn: 1, bytesOut: 2, framesIn: 1, framesOut: 1, lastSeen: 30 });
    expect(s.device(a.id)).toEqual({ id: a.id, status: 'active', updatedAt: 0, capabilities: caps, capabilitiesAt: 10, lastSeen: 50, bytesIn: 101, bytesOut: 42, framesIn: 3, framesOut: 2 });
    expect(s.db.prepare('SELECT label_histogram FROM devices').get()).toEqual({ label_histogram: '[5,0,2]' });
    s.close();
  });

  it('audits every frame sealed and opened, with its hash, and refuses edits', () => {
    const clock = manualClock();
    const s = new FleetStore(dbFile());
    const coordinator = generateIdentity();
    const device = generateIdentity();
    s.preapprove(publicIdentity(device), 0);
    const codec = observedCodec(new SecureChannel({ identity: coordinator, directory: s, clock, logger: captureLogger() }), (r) => s.audit.record(r), clock);
    const deviceChannel = new SecureChannel({ identity: device, directory: pinnedDirectory([publicIdentity(coordinator)]), clock, logger: captureLogger() });
    const out = codec.seal(device.id, { type: 'health.ping', body: {}, round: 4 });
    const reply = deviceChannel.seal(coordinator.id, { type: 'health.pong', body: {} }, { replyTo: out.id });
    expect(codec.open(reply.frame, device.id).ok).toBe(true);
    expect(codec.open(new Uint8Array(100), device.id).ok).toBe(false);
    expect(s.audit.flush(s)).toBe(3);
    const rows = s.audit.list();
    expect(rows.map((r) => [r.direction, r.type, r.peer])).toEqual([
      ['in', 'rejected:malformed', device.id],
      ['in', 'health.pong', device.id],
      ['out', 'health.ping', device.id],
    ]);
    expect(rows[2]).toMatchObject({ bytes: out.frame.length, sha256: createHash('sha256').update(out.frame).digest('hex'), round: 4, ts: clock.now() });
    expect(s.device(device.id)).toMatchObject({ bytesOut: out.frame.length, bytesIn: reply.frame.length + 100, framesIn: 2, lastSeen: clock.now() });
    expect(() => s.db.prepare('UPDATE audit SET bytes = 0').run()).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(s.audit.count()).toBe(3);
    s.close();
  });
});
