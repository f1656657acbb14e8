/**
 * Relabelled mixtures: the inputs are convex combinations of two replayed samples, and in a round the
 * devices label exactly the mixtures that enter the replay buffer, through logits queries only.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../shared/compute/backend.js';
import { seededRandom } from '../../shared/random.js';
import { buildModel } from '../../shared/models/build.js';
import { getAggregator } from '../../shared/distill/aggregation/index.js';
import type { LogitsQuery, TeacherPort } from '../../shared/distill/port.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { ReplayBuffer } from '../../coordinator/engine/replay.js';
import { blendPairs, relabelInputs, NO_RELABEL, towardDisagreement } from '../../coordinator/engine/relabel.js';
import * as tf from '@tensorflow/tfjs';
import { buildGenerator } from '../../coordinator/engine/generator.js';
import { Distiller } from '../../coordinator/engine/distiller.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';

beforeAll(async () => {
  await initBackend(() => {});
});

/** A buffer whose sample k is the constant image k + 1 (features 4 = 2x2x1), so a mixture reveals its parts. */
function constantBuffer(samples: number): ReplayBuffer {
  const replay = new ReplayBuffer(samples, 4, 2);
  for (let k = 0; k < samples; k++) replay.push(new Float32Array(4).fill(k + 1), Float32Array.from([0.5, 0.5]));
  return replay;
}

describe('blendPairs', () => {
  it('blends each row with its partner by its own weight, inputs and soft labels alike', () => {
    const a = { x: Float32Array.from([1, 2, 3, 4]), targets: Float32Array.from([1, 0, 0.5, 0.5]), n: 2 };
    const b = { x: Float32Array.from([5, 6, 7, 8]), targets: Float32Array.from([0, 1, 0.1, 0.9]), n: 2 };
    const mixed = blendPairs(a, b, [0.25, 1]);
    // Row 0: 0.25 a + 0.75 b; row 1: a unchanged.
    expect(Array.from(mixed.x)).toEqual([4, 5, 3, 4]);
    expect(Array.from(mixed.targets)).toEqual([0.25, 0.75, 0.5, 0.5].map((v) => Math.fround(v)));
    expect(mixed.n).toBe(2);
  });

  it('names the mismatch when batches or weights differ in length', () => {
    const a = { x: new Float32Array(4), targets: new Float32Array(4), n: 2 };
    expect(() => blendPairs(a, { x: new Float32Array(2), targets: new Float32Array(2), n: 1 }, [0.5, 0.5])).toThrow(/2 rows, 1 partners and 2 weights/);
    expect(() => blendPairs(a, a, [0.5])).toThrow(/2 rows, 2 partners and 1 weights/);
  });
});

describe('relabelInputs', () => {
  it('mixes pairs of replayed samples: every pixel of a mixture is the same point between two samples', () => {
    const replay = constantBuffer(10);
    const { values, shape } = relabelInputs(replay, 6, [2, 2, 1], { ...NO_RELABEL, batches: 1 }, seededRandom(4));
    expect(shape).toEqual([6, 2, 2, 1]);
    let strictlyBetween = 0;
    for (let i = 0; i < 6; i++) {
      const row = Array.from(values.subarray(i * 4, (i + 1) * 4));
      for (const v of row) expect(v).toBeCloseTo(row[0], 5);
      expect(row[0]).toBeGreaterThanOrEqual(1);
      expect(row[0]).toBeLessThanOrEqual(10);
      if (Math.abs(row[0] - Math.round(row[0])) > 1e-3) strictlyBetween++;
    }
    // λ ~ U(0, 1): a mixture that lands exactly on a sample is a measure-zero event.
    expect(strictlyBetween).toBeGreaterThanOrEqual(5);
  });

  it('without mixup returns replayed samples as they are, and repeats for the same seed', () => {
    const replay = constantBuffer(10);
    const settings = { ...NO_RELABEL, batches: 1, mixup: false };
    const a = relabelInputs(replay, 5, [2, 2, 1], settings, seededRandom(7));
    const b = relabelInputs(replay, 5, [2, 2, 1], settings, seededRandom(7));
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    for (let i = 0; i < 5; i++) expect(new Set(a.values.subarray(i * 4, (i + 1) * 4)).size).toBe(1);
    expect(new Set(Array.from({ length: 5 }, (_, i) => a.values[i * 4])).size).toBe(5);
  });

  it('flips each mixture when asked (a left-right mirror of a 2x2 image swaps its columns)', () => {
    const replay = new ReplayBuffer(1, 4, 2);
    replay.push(Float32Array.from([1, 2, 3, 4]), Float32Array.from([1, 0]));
    const out = relabelInputs(replay, 1, [2, 2, 1], { ...NO_RELABEL, batches: 1, mixup: false, shift: 0, flip: true }, seededRandom(1));
    const seen = Array.from(out.values);
    expect([[1, 2, 3, 4], [2, 1, 4, 3]]).toContainEqual(seen);
    const flips = Array.from({ length: 40 }, (_, s) => relabelInputs(replay, 1, [2, 2, 1], { ...NO_RELABEL, batches: 1, mixup: false, shift: 0, flip: true }, seededRandom(s)).values[0]);
    expect(flips).toContain(1);
    expect(flips).toContain(2);
  });
});

describe('towardDisagreement (relabel.adversarial)', () => {
  it('moves every pixel by epsilon up the student\'s KL from the soft label, and keeps images in [0, 1]', () => {
    // Student logits = [Σ pixels, 0]; the label says class 1, so raising any pixel raises the KL: every step is +ε.
    const student = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 2, 1] }), tf.layers.dense({ units: 2, useBias: false, kernelInitializer: 'zeros' })] });
    student.setWeights([tf.tensor2d([[1, 0], [1, 0], [1, 0], [1, 0]])]);
    const inputs = { values: Float32Array.from([0.5, 0.2, 0.98, 0, 0.1, 0.1, 0.1, 0.1]), shape: [2, 2, 2, 1] };
    const moved = Array.from(towardDisagreement(student, { ...inputs, targets: Float32Array.from([0, 1, 0, 1]) }, 4, 0.05));
    [0.55, 0.25, 1, 0.05, 0.15, 0.15, 0.15, 0.15].forEach((v, i) => expect(moved[i]).toBeCloseTo(v, 6));
    // A label that agrees with the student (class 0) pulls the other way: every pixel down by ε, floored at 0.
    const back = Array.from(towardDisagreement(student, { ...inputs, targets: Float32Array.from([1, 0, 1, 0]) }, 4, 0.05));
    [0.45, 0.15, 0.93, 0, 0.05, 0.05, 0.05, 0.05].forEach((v, i) => expect(back[i]).toBeCloseTo(v, 6));
  });

  it('hands back the drawn samples\' soft labels, mixed with the same weights as their inputs', () => {
    const replay = new ReplayBuffer(2, 4, 2);
    replay.push(Float32Array.from([0, 0, 0, 0]), Float32Array.from([1, 0]));
    replay.push(Float32Array.from([1, 1, 1, 1]), Float32Array.from([0, 1]));
    const { values, targets } = relabelInputs(replay, 2, [2, 2, 1], { ...NO_RELABEL, batches: 1 }, seededRandom(3));
    // Sample i is λ·1 + (1 − λ)·0 (or the reverse) in every pixel; its label puts the same weight on class 1.
    for (let i = 0; i < 2; i++) expect(targets[i * 2 + 1]).toBeCloseTo(values[i * 4], 6);
    for (let i = 0; i < 2; i++) expect(targets[i * 2] + targets[i * 2 + 1]).toBeCloseTo(1, 6);
  });
});

describe('relabel in a distillation round', () => {
  it('asks every device for logits on the mixtures and stores exactly those inputs with their aggregated labels', async () => {
    const histograms = [
      [5, 5, 0, 1, 2, 3, 4, 5, 6, 7],
      [0, 1, 9, 9, 1, 1, 1, 1, 1, 1],
    ];
    const teachers = histograms.map((labelHistogram, d) => new LocalTeacher({ deviceId: `d${d}`, model: buildModel({ kind: 'mlp', hidden: [8] }, { inputShape: [4, 4, 1], numClasses: 10, seed: d + 1 }), labelHistogram }));
    const logitsQueries: LogitsQuery[][] = histograms.map(() => []);
    let gradientQueries = 0;
    const ports: TeacherPort[] = teachers.map((t, d) => ({
      deviceId: t.deviceId,
      info: () => t.info(),
      logits: (q) => (logitsQueries[d].push(q), t.logits(q)),
      gradient: (q) => (gradientQueries++, t.gradient(q)),
    }));
    const config = parseDistillConfig({ rounds: 1, generatorSteps: 2, studentSteps: 1, batchSize: 8, studentBatchSize: 8, replayCapacity: 100, relabel: { batches: 3, flip: true } });
    const student = buildModel({ kind: 'mlp', hidden: [8] }, { inputShape: [4, 4, 1], numClasses: 10, seed: 9 });
    const generator = buildGenerator({ sampleShape: [4, 4, 1], numClasses: 10, zDim: config.zDim, seed: 9 });
    const d = new Distiller({ ports, student, generator, config, seed: 5 });
    await d.run();

    expect(gradientQueries).toBe(2 * 2);
    expect(logitsQueries.map((q) => q.length)).toEqual([3, 3]);
    expect(d.replay.length).toBe((2 + 3) * 8);
    const aggregate = getAggregator(config.aggregation);
    for (let b = 0; b < 3; b++) {
      const inputs = logitsQueries[0][b].inputs;
      expect(logitsQueries[1][b].inputs).toBe(inputs);
      const offset = (2 + b) * 8;
      expect(Array.from(d.replay.x.subarray(offset * 16, (offset + 8) * 16))).toEqual(Array.from(inputs.values));
      const logits = await Promise.all(teachers.map(async (t) => (await t.logits({ inputs })).logits.values));
      const expected = aggregate({ logits, numClasses: 10, tau: config.tau, histograms });
      const stored = d.replay.targets.subarray(offset * 10, (offset + 8) * 10);
      stored.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
    }
  });

  it('rejects bad relabel settings with the field named', () => {
    expect(parseDistillConfig({}).relabel).toEqual(NO_RELABEL);
    expect(() => parseDistillConfig({ relabel: { batches: -1 } })).toThrow(/distill.relabel.batches: must be an integer >= 0, got -1/);
    expect(() => parseDistillConfig({ relabel: { batches: 1.5 } })).toThrow(/distill.relabel.batches/);
    expect(() => parseDistillConfig({ relabel: { mixup: 'yes' } })).toThrow(/distill.relabel.mixup: must be true or false, got "yes"/);
    expect(() => parseDistillConfig({ relabel: { shift: -1 } })).toThrow(/distill.relabel.shift: must be an integer >= 0/);
    expect(() => parseDistillConfig({ relabel: { crop: 2 } })).toThrow(/distill.relabel.crop: unknown setting; valid: batches, mixup, shift, flip/);
    expect(() => parseDistillConfig({ relabel: 3 })).toThrow(/distill.relabel: must be an object/);
    expect(() => parseDistillConfig({ relabel: { adversarial: -0.1 } })).toThrow(/distill.relabel.adversarial: must be a number >= 0, got -0.1/);
    expect(() => parseDistillConfig({ relabel: { fromRound: 0 } })).toThrow(/distill.relabel.fromRound: must be a positive integer, got 0/);
  });

  it('relabels from relabel.fromRound on, with the student\'s hard samples when adversarial is on', async () => {
    const teacher = new LocalTeacher({ deviceId: 'd0', model: buildModel({ kind: 'mlp', hidden: [8] }, { inputShape: [4, 4, 1], numClasses: 10, seed: 1 }), labelHistogram: new Array(10).fill(3) });
    const run = async (adversarial: number) => {
      const perRound: number[] = [];
      const queried: Float32Array[] = [];
      const port: TeacherPort = { deviceId: 'd0', info: () => teacher.info(), gradient: (q) => teacher.gradient(q), logits: (q) => (queried.push(q.inputs.values), teacher.logits(q)) };
      const config = parseDistillConfig({ rounds: 3, generatorSteps: 1, studentSteps: 1, batchSize: 8, studentBatchSize: 8, replayCapacity: 100, relabel: { batches: 2, mixup: false, adversarial, fromRound: 2 } });
      const student = buildModel({ kind: 'mlp', hidden: [8] }, { inputShape: [4, 4, 1], numClasses: 10, seed: 9 });
      const generator = buildGenerator({ sampleShape: [4, 4, 1], numClasses: 10, zDim: config.zDim, seed: 9 });
      await new Distiller({ ports: [port], student, generator, config, seed: 5, onRound: () => void perRound.push(queried.length) }).run();
      return { perRound, queried };
    };
    const plain = await run(0);
    const hard = await run(0.25);
    expect(plain.perRound).toEqual([0, 2, 4]);
    expect(hard.perRound).toEqual([0, 2, 4]);
    // The first relabelled batch draws the same replayed samples in both runs; the hard one moves each pixel
    // by exactly ±0.25, unless the clip to [0, 1] stops it.
    const [a, b] = [plain.queried[0], hard.queried[0]];
    let moved = 0;
    a.forEach((v, k) => {
      const step = b[k] - v;
      if (b[k] === 0 || b[k] === 1) expect(Math.abs(step)).toBeLessThanOrEqual(0.25 + 1e-6);
      else expect(Math.abs(step)).toBeCloseTo(0.25, 5);
      if (Math.abs(step) > 1e-6) moved++;
    });
    expect(moved).toBeGreaterThan(a.length / 2);
  });
});
