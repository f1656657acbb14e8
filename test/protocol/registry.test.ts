import { describe, expect, it } from 'vitest';
import { manualClock } from '../../shared/protocol/clock.js';
import { answerEnrollment } from '../../shared/security/enrollment.js';
import { generateIdentity, publicIdentity } from '../../shared/security/keys.js';
import { MemoryRegistry } from '../../shared/security/registry.js';

const dev = () => publicIdentity(generateIdentity());

describe('device registry', () => {
  it('enrolls with a one-time token, then refuses the token a second time', () => {
    const r = new MemoryRegistry();
    const token = r.issueToken({ ttlMs: 60_000, now: 0 });
    const a = dev();
    expect(r.enroll({ ...a, token }, 10).status).toBe('accepted');
    expect(r.lookup(a.id)?.status).toBe('active');
    expect(r.enroll({ ...dev(), token }, 20)).toMatchObject({ status: 'refused', code: 'bad_token' });
  });

  it('refuses an expired or unknown token', () => {
    const r = new MemoryRegistry();
    const token = r.issueToken({ ttlMs: 1000, now: 0 });
    expect(r.enroll({ ...dev(), token }, 1000)).toMatchObject({ status: 'refused', code: 'bad_token' });
    expect(r.enroll({ ...dev(), token: 'dt_made_up' }, 0)).toMatchObject({ status: 'refused', code: 'bad_token' });
  });

  it('holds a tokenless device as pending until an operator approves it', () => {
    const r = new MemoryRegistry();
    const a = dev();
    expect(r.enroll(a, 0).status).toBe('pending');
    expect(r.lookup(a.id)?.status).toBe('pending');
    expect(r.enroll(a, 1).status).toBe('pending');
    r.approve(a.id, 2);
    expect(r.enroll(a, 3).status).toBe('accepted');
    expect(() => r.approve('nobody', 4)).toThrow(/no device nobody; known: /);
  });

  it('accepts a pre-approved key without a token', () => {
    const r = new MemoryRegistry();
    const a = dev();
    r.preapprove(a, 0);
    expect(r.enroll(a, 1).status).toBe('accepted');
  });

  it('cuts off a revoked device for good, token or not', () => {
    const r = new MemoryRegistry();
    const a = dev();
    r.preapprove(a, 0);
    r.revoke(a.id, 'stolen', 1);
    const token = r.issueToken({ ttlMs: 1000, now: 1 });
    expect(r.enroll({ ...a, token }, 2)).toMatchObject({ status: 'refused', code: 'revoked' });
    expect(() => r.approve(a.id, 3)).toThrow(/revoked/);
    expect(() => r.preapprove(a, 3)).toThrow(/revoked/);
    expect(r.lookup(a.id)).toMatchObject({ status: 'revoked', reason: 'stolen' });
  });

  it('refuses a known id presented with other keys', () => {
    const r = new MemoryRegistry();
    const a = dev();
    r.preapprove(a, 0);
    expect(r.enroll({ ...dev(), id: a.id }, 1)).toMatchObject({ status: 'refused', code: 'key_mismatch' });
  });

  it('bounds pending enrollments', () => {
    const r = new MemoryRegistry(2);
    expect(r.enroll(dev(), 0).status).toBe('pending');
    expect(r.enroll(dev(), 0).status).toBe('pending');
    expect(r.enroll(dev(), 0)).toMatchObject({ status: 'refused', code: 'too_many_pending' });
  });

  it('snapshots to JSON without plaintext tokens and restores', () => {
    const r = new MemoryRegistry();
    const a = dev();
    r.preapprove(a, 0);
    const token = r.issueToken({ ttlMs: 1000, now: 0 });
    const json = JSON.stringify(r.toJSON());
    expect(json).not.toContain(token.slice(3));
    const back = MemoryRegistry.fromJSON(JSON.parse(json));
    expect(back.lookup(a.id)?.signPublicKey).toEqual(a.signPublicKey);
    expect(back.enroll({ ...dev(), token }, 10).status).toBe('accepted');
  });

  it('answers enrollment requests as accept, pending or error drafts', () => {
    const r = new MemoryRegistry();
    const clock = manualClock(0);
    const id = generateIdentity();
    const msg = (token?: string) =>
      ({ v: 1, type: 'enroll.request', id: 'x', sender: id.id, to: 'c', ts: 0, seq: 1, keys: { sign: id.sign.publicKey, box: id.box.publicKey }, body: { token } }) as const;
    expect(answerEnrollment(r, msg(), { fleet: 'f', clock }).type).toBe('enroll.pending');
    expect(answerEnrollment(r, msg('dt_bad'), { fleet: 'f', clock })).toEqual({ type: 'error', body: { code: 'enroll_bad_token', reason: expect.any(String) } });
    const token = r.issueToken({ ttlMs: 10, now: 0 });
    expect(answerEnrollment(r, msg(token), { fleet: 'f', clock })).toEqual({ type: 'enroll.accept', body: { deviceId: id.id, fleet: 'f' } });
  });
});
