import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../shared/security/replay.js';
import { backoffDelay } from '../../shared/transport/backoff.js';
import { seededRandom } from '../../shared/random.js';

const accept = (g: ReplayGuard, sender: string, seq: number, ts: number, now: number) => {
  const r = g.check(sender, seq, ts, now);
  if (r.ok) g.commit(sender, seq);
  return r.ok ? 'ok' : r.error.code;
};

describe('replay guard', () => {
  it('accepts each sequence number once per sender', () => {
    const g = new ReplayGuard();
    expect(accept(g, 'a', 5, 0, 0)).toBe('ok');
    expect(accept(g, 'a', 5, 0, 0)).toBe('replay');
    expect(accept(g, 'b', 5, 0, 0)).toBe('ok');
  });

  it('accepts a frame that overtook another within the window, once', () => {
    const g = new ReplayGuard({ seqWindow: 8 });
    expect(accept(g, 'a', 10, 0, 0)).toBe('ok');
    expect(accept(g, 'a', 12, 0, 0)).toBe('ok');
    expect(accept(g, 'a', 11, 0, 0)).toBe('ok');
    expect(accept(g, 'a', 11, 0, 0)).toBe('replay');
    expect(accept(g, 'a', 4, 0, 0)).toBe('replay'); // 12 - 8: outside the window
    expect(accept(g, 'a', 5, 0, 0)).toBe('ok'); // just inside
  });

  it('refuses timestamps outside the window on either side (the boundary is inclusive)', () => {
    const g = new ReplayGuard({ windowMs: 1000 });
    expect(accept(g, 'a', 1, 5000, 6001)).toBe('stale');
    expect(accept(g, 'a', 2, 7001, 6000)).toBe('stale');
    expect(accept(g, 'a', 3, 5000, 6000)).toBe('ok');
  });

  it('check() alone changes nothing', () => {
    const g = new ReplayGuard();
    expect(g.check('a', 1, 0, 0).ok).toBe(true);
    expect(g.check('a', 1, 0, 0).ok).toBe(true);
  });

  it('stays bounded under long runs and forgets least-recent senders first', () => {
    const g = new ReplayGuard({ seqWindow: 16, maxSenders: 2 });
    for (let s = 0; s < 10_000; s++) expect(accept(g, 'a', s, 0, 0)).toBe('ok');
    expect(accept(g, 'a', 9_990, 0, 0)).toBe('replay');
    accept(g, 'b', 1, 0, 0);
    accept(g, 'a', 10_000, 0, 0); // a is now the most recent
    accept(g, 'c', 1, 0, 0); // evicts b
    expect(accept(g, 'a', 10_000, 0, 0)).toBe('replay'); // a is still remembered
    expect(accept(g, 'b', 1, 0, 0)).toBe('ok'); // b was forgotten
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially up to the cap', () => {
    const none = () => 1; // top of the jitter range
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, { initialMs: 100, maxMs: 1000, jitter: 0 }, none))).toEqual([100, 200, 400, 800, 1000]);
  });

  it('jitters within [cap*(1-j), cap) and is reproducible with a seeded source', () => {
    const r1 = seededRandom(1);
    const r2 = seededRandom(1);
    const a = Array.from({ length: 200 }, (_, i) => backoffDelay(i % 6, { initialMs: 100, maxMs: 2000, jitter: 0.5 }, () => r1.next()));
    const b = Array.from({ length: 200 }, (_, i) => backoffDelay(i % 6, { initialMs: 100, maxMs: 2000, jitter: 0.5 }, () => r2.next()));
    expect(a).toEqual(b);
    a.forEach((d, i) => {
      const cap = Math.min(2000, 100 * 2 ** (i % 6));
      expect(d).toBeGreaterThanOrEqual(cap / 2);
      expect(d).toBeLessThan(cap);
    });
    expect(new Set(a).size).toBeGreaterThan(150); // actually spread out, not lockstep
  });

  it('names the bad option', () => {
    expect(() => backoffDelay(0, { initialMs: 0 })).toThrow(/initialMs/);
    expect(() => backoffDelay(0, { jitter: 2 })).toThrow(/jitter/);
  });
});
