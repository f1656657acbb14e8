/**
 * Regression: resuming from a checkpoint after dozens of optimizer steps must stay bit-exact. TF.js's Adam
 * recomputes its bias-correction products as pow(β, t + 1) in setWeights, which differs in the last bits
 * from the running product; the checkpoint now carries the products themselves.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../../shared/models/build.js';
import { buildGenerator, reinitializeGenerator } from '../../coordinator/engine/generator.js';
import { Distiller } from '../../coordinator/engine/distiller.js';
import { DirectoryCheckpoints, readCheckpointContents, setupDifferences } from '../../coordinator/engine/checkpoint.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { accountedPort, emptyTraffic, type Traffic } from '../../coordinator/engine/accounting.js';
import { zerothOrderPort } from '../../shared/distill/zeroth-order.js';
import { digitsFleet, STUDENT_SPEC, type Fleet } from '../distill/fleet-fixture.js';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await digitsFleet(2, 2);
});

async function distill(rounds: number, dir?: string, overrides: Record<string, unknown> = {}, deviceCount?: number, onRound?: (student: tf.LayersModel, d: Distiller) => void, blackBox = false, onTrained?: (student: tf.LayersModel) => void) {
  const config = parseDistillConfig({ rounds, generatorSteps: 2, studentSteps: 40, batchSize: 16, studentBatchSize: 16, warmupRounds: 1, ...overrides });
  const student = buildModel(STUDENT_SPEC, { inputShape: [8, 8, 1], numClasses: 10, seed: 4 });
  const generator = buildGenerator({ sampleShape: [8, 8, 1], numClasses: 10, zDim: config.zDim, branches: config.generators, seed: 4 });
  const devices = fleet.ports().slice(0, deviceCount);
  const traffic: Traffic[] = devices.map(() => emptyTraffic());
  // Black-box devices: every process builds its zeroth-order ports afresh, as a resumed process does.
  const ports = devices.map((p, i) => (blackBox ? zerothOrderPort(accountedPort(p, traffic[i]), { ...config.zerothOrder, directions: 4, seed: 4 }) : accountedPort(p, traffic[i])));
  const d: Distiller = new Distiller({ ports, student, generator, config, seed: 4, traffic, checkpoints: dir ? new DirectoryCheckpoints(dir, { generator, student }) : undefined, onRound: onRound && (() => (onRound(student, d), undefined)), onTrained: onTrained && (() => onTrained(student)) });
  await d.run();
  return { student, generator, d, traffic };
}

describe('checkpoint resume keeps the run\'s accounting and refuses another run\'s checkpoint', () => {
  it('a resumed run reports every byte: the checkpointed rounds\' traffic plus its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-traffic-'));
    try {
      const straight = await distill(3);
      const first = await distill(2, dir);
      const resumed = await distill(3, dir);
      for (const [i, t] of resumed.traffic.entries()) {
        // The gradient queries of all three rounds, exactly once each.
        expect(t.down.gradient).toBe(straight.traffic[i].down.gradient);
        expect(t.up.gradient).toBe(straight.traffic[i].up.gradient);
        expect(t.down.gradient).toBeGreaterThan(first.traffic[i].down.gradient);
        // Enrolment happened twice (once per process), and both crossed the port.
        expect(t.up.info).toBe(2 * straight.traffic[i].up.info);
        expect(t.roundTrips).toBe(straight.traffic[i].roundTrips + 1);
      }
      expect(resumed.d.history.map((h) => h.round)).toEqual([1, 2, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hands a finished run\'s student weights, replay buffer and setup to offline study (bench:replay)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-checkpoint-contents-'));
    try {
      const { student, d } = await distill(2, dir);
      const contents = readCheckpointContents(dir);
      expect(contents.round).toBe(2);
      expect(contents.setup).toEqual(d.setup);
      expect(contents.student.map((a) => a.shape)).toEqual(student.weights.map((w) => w.shape));
      contents.student.forEach((a, i) => expect(Array.from(a.values)).toEqual(Array.from(student.weights[i].read().dataSync())));
      const replay = d.replay.snapshot();
      expect(contents.replay.size).toBe(replay.size);
      expect(Array.from(contents.replay.targets)).toEqual(Array.from(replay.targets));
      expect(Array.from(contents.replay.x.subarray(0, 64))).toEqual(Array.from(replay.x.subarray(0, 64)));
      expect(() => readCheckpointContents(join(dir, 'missing'))).toThrow(/no checkpoint in .*missing \(state.json is missing\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the settings that differ instead of resuming another experiment\'s checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-mismatch-'));
    try {
      await distill(1, dir, { tau: 4 });
      await expect(distill(2, dir, { tau: 2, jitter: { shift: 1 } })).rejects.toThrow(/different settings \(distill\.tau, distill\.jitter\).*another output folder/);
      // Same settings, another fleet: its traffic cannot be continued.
      await expect(distill(2, dir, { tau: 4 }, 1)).rejects.toThrow(/traffic for 2 devices, this run has 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('setupDifferences', () => {
  it('treats a setting the checkpoint predates as its default, and names it when the run changes it', () => {
    const current = parseDistillConfig({ rounds: 4 });
    const { relabel: _added, ...older } = current;
    const saved = { config: older as typeof current, seed: 1 };
    expect(setupDifferences(saved, { config: current, seed: 1 })).toEqual([]);
    expect(setupDifferences(saved, { config: parseDistillConfig({ relabel: { batches: 2 } }), seed: 1 })).toEqual(['distill.relabel']);
    expect(setupDifferences(saved, { config: current, seed: 2 })).toEqual(['seed']);
    // A setting added inside a group (relabel.adversarial) after the checkpoint was written, likewise.
    const { adversarial: _new, ...olderRelabel } = current.relabel;
    const savedGroup = { config: { ...current, relabel: olderRelabel as typeof current.relabel }, seed: 1 };
    expect(setupDifferences(savedGroup, { config: current, seed: 1 })).toEqual([]);
    expect(setupDifferences(savedGroup, { config: { ...current, relabel: { ...current.relabel, adversarial: 0.1 } }, seed: 1 })).toEqual(['distill.relabel']);
  });
});

describe('checkpoint resume after many optimizer steps', () => {
  it('restores Adam exactly, so the resumed run ends on the uninterrupted run\'s weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-'));
    try {
      const straight = await distill(3);
      await distill(2, dir);
      const resumed = await distill(3, dir);
      const acc = (d: Distiller) => (d.studentOptimizer as unknown as { accBeta2: tf.Variable }).accBeta2.dataSync()[0];
      expect(acc(resumed.d)).toBe(acc(straight.d));
      expect(acc(resumed.d)).not.toBe(Math.fround(0.999 ** 121)); // the product, not a recomputed power
      expect(resumed.student.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(straight.student.getWeights().map((w) => Array.from(w.dataSync())));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with black-box devices too: the probes of a query depend on the query, not on the process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-blackbox-'));
    try {
      const straight = await distill(3, undefined, {}, undefined, undefined, true);
      await distill(2, dir, {}, undefined, undefined, true);
      const resumed = await distill(3, dir, {}, undefined, undefined, true);
      const weights = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
      expect(weights(resumed.student)).toEqual(weights(straight.student));
      // And they did run black-box: 6 generator steps (3 rounds of 2), each one logits query of 16 inputs
      // (64 values, 4 shape numbers) plus the 12-byte probe seed, answered with 1 + 4 rows of 10 logits per input.
      const steps = 6;
      expect(straight.traffic[0].down).toEqual({ logits: steps * (4 * (16 * 64 + 4) + 12) });
      expect(straight.traffic[0].up.logits).toBe(steps * 4 * ((1 + 4) * 16 * 10 + 2));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the student\'s weight average (studentEma)', () => {
  it('is exported after the run, is what each round evaluates, and resumes exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-ema-'));
    try {
      const ema = { studentEma: 0.9 };
      const plain = await distill(3);
      const evaluated: { seen: number[][]; average: number[][] }[] = [];
      const straight = await distill(3, undefined, ema, undefined, (student, d) => {
        evaluated.push({ seen: student.getWeights().map((w) => Array.from(w.dataSync())), average: d.studentAverage!.arrays().map((a) => Array.from(a.values)) });
      });
      expect(evaluated).toHaveLength(3);
      for (const e of evaluated) expect(e.seen).toEqual(e.average);
      // The average replaces the exported student; the training weights are the plain run's (the average does
      // not touch the training, nor the random stream).
      const exported = straight.student.getWeights().map((w) => Array.from(w.dataSync()));
      expect(straight.d.studentAverage!.arrays().map((a) => Array.from(a.values))).toEqual(exported);
      expect(exported).not.toEqual(plain.student.getWeights().map((w) => Array.from(w.dataSync())));
      await distill(2, dir, ema);
      const resumed = await distill(3, dir, ema);
      expect(resumed.student.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(exported);
      // And the checkpoint's `student` is the training weights, equal to the run without an average.
      expect(readCheckpointContents(dir).student.map((a) => Array.from(a.values))).toEqual(plain.student.getWeights().map((w) => Array.from(w.dataSync())));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the student\'s weight average taken once a round (studentEmaEvery: round)', () => {
  const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Float32Array.from(w.dataSync()));
  /** Σ share_i · rounds[i], weight by weight. */
  const mix = (rounds: Float32Array[][], shares: number[]) => rounds[0].map((w, k) => w.map((_, j) => shares.reduce((a, sh, i) => a + sh * rounds[i][k][j], 0)));
  const expectClose = (a: Float32Array[], b: Float32Array[]) => a.forEach((w, k) => w.forEach((v, j) => expect(v).toBeCloseTo(b[k][j], 5)));

  async function run(studentEma: number, rounds: number, dir?: string) {
    const own: Float32Array[][] = [];
    const published: Float32Array[][] = [];
    const r = await distill(rounds, dir, { studentEma, studentEmaEvery: 'round' }, undefined, (student) => void published.push(weightsOf(student)), false, (student) => void own.push(weightsOf(student)));
    return { ...r, own, published };
  }

  it('is the mean of every round\'s student until the window fills, then an exponential average', async () => {
    // Decay 0.5: round 1 publishes w1, round 2 (w1 + w2) / 2, round 3 0.5 · that + 0.5 · w3.
    const { own, published, student } = await run(0.5, 3);
    expect(own).toHaveLength(3);
    expectClose(published[0], own[0]);
    expectClose(published[1], mix(own, [0.5, 0.5, 0]));
    expectClose(published[2], mix(own, [0.25, 0.25, 0.5]));
    expectClose(weightsOf(student), published[2]);
    // The training weights are the plain run's: the average touches neither the training nor the random stream.
    const plain = await distill(3);
    expect(own[2]).toEqual(weightsOf(plain.student));
    // Decay 0.9 over three rounds: the plain mean of the three.
    const long = await run(0.9, 3);
    expectClose(long.published[2], mix(long.own, [1 / 3, 1 / 3, 1 / 3]));
  });

  it('resumes exactly from a checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-round-ema-'));
    try {
      const straight = await run(0.5, 3);
      await run(0.5, 2, dir);
      const resumed = await run(0.5, 3, dir);
      expect(weightsOf(resumed.student)).toEqual(weightsOf(straight.student));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generator restarts (generatorRestart)', () => {
  const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

  it('redraws every generator weight by its rule, the same for the same seed', () => {
    const a = buildGenerator({ sampleShape: [8, 8, 1], numClasses: 10, seed: 1 });
    const b = buildGenerator({ sampleShape: [8, 8, 1], numClasses: 10, seed: 2 });
    const before = weightsOf(a);
    reinitializeGenerator(a, 99);
    reinitializeGenerator(b, 99);
    expect(weightsOf(a)).toEqual(weightsOf(b));
    a.weights.forEach((w, i) => {
      const values = weightsOf(a)[i];
      const leaf = w.originalName.split('/').at(-1);
      if (leaf === 'kernel') {
        expect(values).not.toEqual(before[i]);
        // Glorot uniform: |w| <= sqrt(6 / (fanIn + fanOut)).
        const shape = w.shape as number[];
        const receptive = shape.slice(0, -2).reduce((p, q) => p * q, 1);
        const limit = Math.sqrt(6 / (receptive * (shape.at(-2)! + shape.at(-1)!)));
        expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(limit + 1e-6);
      } else {
        expect(new Set(values)).toEqual(new Set([leaf === 'gamma' || leaf === 'moving_variance' ? 1 : 0]));
      }
    });
  });

  it('restarts at the start of round k + 1, and a run resumed across a restart ends where the straight run does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-restart-'));
    try {
      const restart = { generatorRestart: 2 };
      // No restart within the first two rounds: the same weights as a run without the setting.
      const plainTwo = await distill(2);
      const restartTwo = await distill(2, undefined, restart);
      expect(weightsOf(restartTwo.student)).toEqual(weightsOf(plainTwo.student));
      const plain = await distill(3);
      const straight = await distill(3, undefined, restart);
      expect(weightsOf(straight.student)).not.toEqual(weightsOf(plain.student));
      await distill(2, dir, restart);
      const resumed = await distill(3, dir, restart);
      expect(weightsOf(resumed.student)).toEqual(weightsOf(straight.student));
      expect(weightsOf(resumed.generator)).toEqual(weightsOf(straight.generator));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('several generators (generators)', () => {
  const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

  it('train every branch, change the run, and resume exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-branches-'));
    try {
      const three = { generators: 3 };
      const plain = await distill(2);
      const straight = await distill(3, undefined, three);
      expect(weightsOf(straight.student)).not.toEqual(weightsOf(plain.student));
      // Every branch moved from its initial weights: each drew part of every batch and learnt from it.
      const initial = buildGenerator({ sampleShape: [8, 8, 1], numClasses: 10, zDim: 64, branches: 3, seed: 4 });
      const kernels = straight.generator.weights.map((w, i) => ({ name: w.originalName, moved: weightsOf(straight.generator)[i].some((v, j) => v !== weightsOf(initial)[i][j]) })).filter((k) => k.name.endsWith('kernel'));
      expect(kernels.length).toBe(3 * 4); // dense, two transposed convolutions and a convolution per branch
      expect(kernels.every((k) => k.moved)).toBe(true);
      await distill(2, dir, three);
      const resumed = await distill(3, dir, three);
      expect(weightsOf(resumed.student)).toEqual(weightsOf(straight.student));
      expect(weightsOf(resumed.generator)).toEqual(weightsOf(straight.generator));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('per-teacher heads (teacherHeads)', () => {
  const weightsOf = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));

  it('change the student, never join it, and resume exactly, procedural pool and all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-heads-'));
    try {
      const pool = { procedural: { pool: 48, share: 0.5 } };
      const heads = { ...pool, teacherHeads: 0.5 };
      const plain = await distill(2, undefined, pool);
      const twoRounds = await distill(2, undefined, heads);
      // The published student keeps its shape; the heads are the coordinator's, trained beside it.
      expect(twoRounds.student.getWeights().map((w) => w.shape)).toEqual(plain.student.getWeights().map((w) => w.shape));
      expect(weightsOf(twoRounds.student)).not.toEqual(weightsOf(plain.student));
      expect(twoRounds.d.teacherHeads!.layer.getWeights()[0].shape).toEqual([32, 2 * 10]);
      // Rounds report the heads' loss apart from the student's KL; it falls as the heads learn.
      const [first, second] = twoRounds.d.history.map((r) => r.teacherHeadsLoss!);
      expect(second).toBeGreaterThan(0);
      expect(second).toBeLessThan(first);
      expect(plain.d.history[0].teacherHeadsLoss).toBeUndefined();
      // Every stored sample carries both devices' answers, each a distribution over the classes it holds.
      const side = twoRounds.d.replay.side.subarray(0, 20);
      for (let d = 0; d < 2; d++) expect(side.subarray(d * 10, d * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      const straight = await distill(3, undefined, heads);
      await distill(2, dir, heads);
      const resumed = await distill(3, dir, heads);
      expect(weightsOf(resumed.student)).toEqual(weightsOf(straight.student));
      expect(weightsOf(resumed.d.teacherHeads!.layer)).toEqual(weightsOf(straight.d.teacherHeads!.layer));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
