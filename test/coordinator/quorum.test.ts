/**
 * Rounds with a deadline and a quorum: the pure collection rules under fake timers, then a distillation
 * over the network that goes on without a straggler, a failing device and a device that drops and rejoins.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { collectReplies, QuorumError } from '../../coordinator/engine/quorum.js';
import { buildModel } from '../../shared/models/build.js';
import { buildGenerator } from '../../coordinator/engine/generator.js';
import { Distiller } from '../../coordinator/engine/distiller.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { teacherHandler } from '../../edge-agent/serve-teacher.js';
import type { AnyEnvelope } from '../../shared/protocol/envelope.js';
import { digitsFleet, STUDENT_SPEC, type Fleet } from '../distill/fleet-fixture.js';
import { remoteFleet } from './helpers/remote-fleet.js';

/** A promise settled by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)));
  return { promise, resolve, reject };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('collectReplies', () => {
  afterEach(() => vi.useRealTimers());

  it('waits for everyone before the deadline and returns replies in request order', async () => {
    const d = [deferred<string>(), deferred<string>(), deferred<string>()];
    const got = collectReplies(d.map((x) => x.promise), { min: 1, deadlineMs: 1000 });
    d[2].resolve('c');
    d[0].resolve('a');
    d[1].resolve('b');
    expect(await got).toEqual({ replies: [{ index: 0, value: 'a' }, { index: 1, value: 'b' }, { index: 2, value: 'c' }], failed: [], late: [] });
  });

  it('goes on at the deadline with the quorum that arrived, leaving the straggler behind', async () => {
    vi.useFakeTimers();
    const d = [deferred<number>(), deferred<number>(), deferred<number>()];
    let result: Awaited<ReturnType<typeof collectReplies<number>>> | undefined;
    void collectReplies(d.map((x) => x.promise), { min: 2, deadlineMs: 500 }).then((r) => (result = r));
    d[1].resolve(1);
    d[0].reject(new Error('device 0: teacher_failed'));
    await vi.advanceTimersByTimeAsync(499);
    expect(result).toBeUndefined(); // before the deadline everyone may still answer
    d[2].resolve(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(result).toMatchObject({ replies: [{ index: 1 }, { index: 2 }], failed: [{ index: 0 }], late: [] });
  });

  it('after the deadline keeps waiting until the quorum is met, then ignores the rest', async () => {
    vi.useFakeTimers();
    const d = [deferred<number>(), deferred<number>(), deferred<number>()];
    let result: Awaited<ReturnType<typeof collectReplies<number>>> | undefined;
    void collectReplies(d.map((x) => x.promise), { min: 2, deadlineMs: 100 }).then((r) => (result = r));
    d[0].resolve(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(result).toBeUndefined();
    d[2].resolve(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(result).toEqual({ replies: [{ index: 0, value: 0 }, { index: 2, value: 2 }], failed: [], late: [1] });
    d[1].reject(new Error('too late')); // a late failure is ignored, not unhandled
  });

  it('fails with QuorumError, naming the failures, as soon as the quorum is out of reach', async () => {
    const d = [deferred<number>(), deferred<number>(), deferred<number>()];
    const got = collectReplies(d.map((x) => x.promise), { min: 2, deadlineMs: Infinity });
    d[0].reject(new Error('device a: timeout'));
    d[2].reject(new Error('device c: closed'));
    await expect(got).rejects.toBeInstanceOf(QuorumError);
    await expect(got).rejects.toThrow(/only 0 of 3 replies and 1 pending, below the quorum of 2: device a: timeout; device c: closed/);
    await expect(collectReplies([Promise.resolve(1)], { min: 2, deadlineMs: 1 })).rejects.toThrow(/quorum 2 must be an integer in 1..1/);
  });
});

describe('distillation rounds with stragglers', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await digitsFleet(4, 3);
  });
  const config = parseDistillConfig({ rounds: 3, generatorSteps: 3, studentSteps: 5, batchSize: 16, studentBatchSize: 16, warmupRounds: 1 });
  const models = () => ({
    student: buildModel(STUDENT_SPEC, { inputShape: [8, 8, 1], numClasses: 10, seed: 1 }),
    generator: buildGenerator({ sampleShape: [8, 8, 1], numClasses: 10, zDim: config.zDim, seed: 1 }),
  });

  it('aggregates the replies that arrived: a slow device, a failing device and one that drops and rejoins', async () => {
    const [fast, slow, failing, flaky] = fleet.ports().map((t) => teacherHandler(t));
    let failNext = false;
    const net = remoteFleet([
      fast,
      async (m: AnyEnvelope) => (m.type === 'gradient.query' ? (await sleep(1500), slow(m)) : slow(m)),
      async (m: AnyEnvelope) => (m.type === 'gradient.query' && (failNext = !failNext) ? { type: 'error', body: { code: 'teacher_failed', reason: 'out of memory' } } : failing(m)),
      flaky,
    ]);
    try {
      let steps = 0;
      const d = new Distiller({
        ...models(),
        ports: net.ports({ timeoutMs: 3000 }),
        config,
        seed: 1,
        quorum: { min: 2, deadlineMs: 300 },
        onStep: () => ++steps === 2 && net.net.interrupt(net.ids[3], 400),
      });
      const t0 = performance.now();
      const state = await d.run();
      const seconds = (performance.now() - t0) / 1000;
      expect(state.round).toBe(3);
      const total = { answered: [0, 0, 0, 0], failed: [0, 0, 0, 0], late: [0, 0, 0, 0] };
      for (const r of state.history) r.participation!.forEach((p, i) => (['answered', 'failed', 'late'] as const).forEach((k) => (total[k][i] += p[k])));
      console.log(`9 steps in ${seconds.toFixed(1)} s; answered ${total.answered}, failed ${total.failed}, late ${total.late}`);
      expect(total.answered[0]).toBe(9);
      // The slow device misses the deadline, except in a step where the quorum needed it (the failing and
      // the dropped device both out): then the step waited for it.
      expect(total.late[1]).toBeGreaterThanOrEqual(7);
      expect(total.late[1] + total.answered[1]).toBe(9);
      expect(total.failed[2]).toBeGreaterThanOrEqual(4); // every other query failed
      expect(total.answered[2]).toBeGreaterThanOrEqual(4);
      expect(total.failed[3] + total.late[3]).toBeGreaterThanOrEqual(1); // the drop cost it at least one step
      expect(total.answered[3]).toBeGreaterThanOrEqual(6); // and it was back afterwards
      expect(seconds).toBeLessThan(9 * 1.5); // no step waited for the straggler
    } finally {
      await net.close();
    }
  });

  it('fails the round with QuorumError when too few devices can answer', async () => {
    const handlers = fleet.ports().map((t) => teacherHandler(t));
    const net = remoteFleet(handlers.map((h, i) => (i < 3 ? async (m: AnyEnvelope) => (m.type === 'gradient.query' ? { type: 'error' as const, body: { code: 'teacher_failed', reason: `device ${i} is broken` } } : h(m)) : h)));
    try {
      const d = new Distiller({ ...models(), ports: net.ports(), config, seed: 1, quorum: { min: 2, deadlineMs: 100 } });
      await expect(d.run()).rejects.toThrow(/below the quorum of 2: device \w+: teacher_failed: device 0 is broken/);
    } finally {
      await net.close();
    }
  });
});
