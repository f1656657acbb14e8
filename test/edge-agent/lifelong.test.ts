/**
 * Lifelong learning: the reservoir memory (bounded, uniform), the losses against hand-computed values, the
 * Chaudhry et al. metrics, and LwF + replay against naive fine-tuning on a class-incremental digits stream.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
import { loadDataset } from '../../shared/data/registry.js';
import { seededRandom } from '../../shared/random.js';
import {
  LifelongLearner, ReservoirBuffer, averageAccuracy, classIncrementalGroups, classMask, forgetting, lwfDistillation,
  maskedCrossEntropy, naiveOptions, runStream, splitByClasses, type LifelongOptions,
} from '../../edge-agent/lifelong/index.js';

beforeAll(async () => {
  await initBackend(() => {});
});

describe('reservoir memory', () => {
  it('never holds more than its capacity and counts what it was offered', () => {
    const buffer = new ReservoirBuffer(7, 3, seededRandom(1));
    for (let i = 0; i < 100; i++) {
      buffer.add([i, i, i], i % 4);
      expect(buffer.size).toBe(Math.min(7, i + 1));
    }
    expect(buffer.seen).toBe(100);
    expect(buffer.x.length).toBe(21);
    const held = buffer.toDataset({ sampleShape: [3], numClasses: 4 });
    held.y.forEach((label, s) => expect(label).toBe(held.x[3 * s] % 4)); // samples stay paired with their labels
  });

  it('keeps every stream position with equal probability (chi-square over 4,000 seeded streams)', () => {
    const n = 50;
    const k = 10;
    const trials = 4000;
    const kept = new Array<number>(n).fill(0);
    const seeds = seededRandom(2024);
    for (let t = 0; t < trials; t++) {
      const buffer = new ReservoirBuffer(k, 1, seededRandom(seeds.int(2 ** 31)));
      for (let i = 0; i < n; i++) buffer.add([i], 0);
      for (const v of buffer.x) kept[v]++;
    }
    const expected = (trials * k) / n; // 800 per position
    const chi2 = kept.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
    // 49 degrees of freedom: the 99.9th percentile is 85.4. A biased reservoir (e.g. one that always
    // replaces a slot, or favours late items) lands in the thousands.
    expect(chi2).toBeLessThan(85.4);
    expect(Math.min(...kept)).toBeGreaterThan(0.8 * expected);
  });

  it('holds nothing with capacity 0 and rejects malformed samples', () => {
    const empty = new ReservoirBuffer(0, 2, seededRandom(1));
    expect(empty.add([1, 2], 0)).toBe(-1);
    expect(empty.size).toBe(0);
    const buffer = new ReservoirBuffer(3, 2, seededRandom(1));
    expect(() => buffer.add([1, 2, 3], 0)).toThrow(/sample has 3 values, expected 2/);
    expect(() => buffer.add([1, 2], -1)).toThrow(/label must be an integer >= 0, got -1/);
    expect(() => new ReservoirBuffer(-1, 2, seededRandom(1))).toThrow(/capacity must be an integer >= 0, got -1/);
  });
});

describe('lifelong losses', () => {
  it('LwF distillation matches a hand computation over the old classes only, scaled by T^2', () => {
    const student = tf.tensor2d([[1, 0, 5]]);
    const teacher = tf.tensor2d([[0, 2, -9]]);
    const old = classMask(3, [0, 1]);
    // T = 2: p = softmax([0, 1]) = [0.2689, 0.7311]; log q = log softmax([0.5, 0]) = [-0.4741, -0.9741]
    const expected = 4 * -(0.268941 * -0.474077 + 0.731059 * -0.974077);
    expect(lwfDistillation(student, teacher, old, 2).dataSync()[0]).toBeCloseTo(expected, 4);
    // The new class (index 2) plays no part: changing its logit changes nothing.
    expect(lwfDistillation(tf.tensor2d([[1, 0, -50]]), teacher, old, 2).dataSync()[0]).toBeCloseTo(expected, 4);
  });

  it('LwF distillation is smallest when the student repeats the teacher', () => {
    const teacher = tf.tensor2d([[0.3, -1.2, 2]]);
    const old = classMask(3, [0, 1, 2]);
    const at = (s: number[][]) => lwfDistillation(tf.tensor2d(s), teacher, old, 2).dataSync()[0];
    const same = at([[0.3, -1.2, 2]]);
    expect(at([[0.3, -1.2, 2.5]])).toBeGreaterThan(same);
    expect(at([[1.3, -1.2, 2]])).toBeGreaterThan(same);
    expect(at([[5.3, 3.8, 7]])).toBeCloseTo(same, 5); // softmax ignores a common shift
  });

  it('masked cross-entropy ignores classes outside the mask', () => {
    const logits = tf.tensor2d([[2, 0, 100]]);
    const labels = tf.tensor1d([0], 'int32');
    const ce = maskedCrossEntropy(logits, labels, classMask(3, [0, 1])).dataSync()[0];
    expect(ce).toBeCloseTo(Math.log(1 + Math.exp(-2)), 4);
  });
});

describe('continual-learning metrics (Chaudhry et al. 2018)', () => {
  it('computes average accuracy and forgetting from the accuracy matrix', () => {
    const acc = [[0.9], [0.7, 0.8], [0.6, 0.5, 0.95]];
    expect(averageAccuracy(acc)).toBeCloseTo((0.6 + 0.5 + 0.95) / 3, 12);
    // task 0 fell from its best 0.9 to 0.6, task 1 from 0.8 to 0.5
    expect(forgetting(acc)).toBeCloseTo((0.3 + 0.3) / 2, 12);
    expect(forgetting(acc, 1)).toBeCloseTo(0.2, 12);
    expect(forgetting([[0.9]])).toBe(0);
    expect(() => averageAccuracy(acc, 3)).toThrow(/task index 3 is outside the 3 tasks learned/);
  });
});

describe('class-incremental digits stream (5 tasks of 2 classes)', () => {
  const base: LifelongOptions = { memorySize: 100, epochs: 5, batchSize: 16, learningRate: 2e-3, seed: 1 };

  async function stream(options: LifelongOptions) {
    const { train, test } = loadDataset('digits');
    const groups = classIncrementalGroups(10, 2);
    const model = buildModel({ kind: 'mlp', hidden: [64] }, { inputShape: [8, 8, 1], numClasses: 10, seed: 11 });
    return runStream(new LifelongLearner(model, train, options), splitByClasses(train, groups), splitByClasses(test, groups));
  }

  it('LwF + reservoir replay forgets at most half as much as naive fine-tuning, and ends more accurate', async () => {
    const naive = await stream(naiveOptions(base));
    const ours = await stream(base);
    expect(naive.forgetting).toBeGreaterThan(0.5); // naive fine-tuning loses the old classes
    expect(ours.forgetting).toBeLessThanOrEqual(naive.forgetting / 2);
    expect(ours.avgAcc).toBeGreaterThan(naive.avgAcc + 0.3);
    expect(ours.accuracy.map((row) => row.length)).toEqual([1, 2, 3, 4, 5]);
    expect(ours.reports[4].seenClasses).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ours.reports[0].replayed).toBeGreaterThan(0);
    expect(naive.reports[4].replayed).toBe(0);
  });

  it('rejects an update with an out-of-range label without learning anything', async () => {
    const { train } = loadDataset('digits');
    const model = buildModel({ kind: 'mlp', hidden: [8] }, { inputShape: [8, 8, 1], numClasses: 10, seed: 1 });
    const learner = new LifelongLearner(model, train, base);
    const bad = { ...train, y: Int32Array.from(train.y, (v, i) => (i === 5 ? 12 : v)) };
    await expect(learner.update(bad)).rejects.toThrow(/label 12 is outside 0\.\.9/);
    expect(learner.seenClasses).toEqual([]);
    expect(learner.buffer.seen).toBe(0);
  });
});
