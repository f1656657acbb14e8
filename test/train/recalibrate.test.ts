/**
 * BN recalibration against hand-computed batch statistics, and the teacher cache that derives a recalibrated
 * teacher from a cached plain one with the weights that training it from scratch gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../shared/compute/backend.js';
import { recalibrateBatchNorm } from '../../shared/train/recalibrate.js';
import { buildModel } from '../../shared/models/build.js';
import { loadDataset } from '../../shared/data/registry.js';
import { partitionDataset } from '../../shared/data/partition.js';
import { loadScenario } from '../../simulations/scenario.js';
import { prepareTeachers } from '../../simulations/teachers.js';
import type { Dataset } from '../../shared/data/dataset.js';

const cache = mkdtempSync(join(tmpdir(), 'distillery-recalibrate-'));
const previous = process.env.DISTILLERY_CACHE;
beforeAll(async () => {
  await initBackend(() => {});
});
afterAll(() => {
  if (previous === undefined) delete process.env.DISTILLERY_CACHE;
  else process.env.DISTILLERY_CACHE = previous;
  rmSync(cache, { recursive: true, force: true });
});

/** input [F] -> BN -> dense: the BN layer sees the raw features, so its batch statistics are computable by hand. */
function bnModel(F: number): tf.LayersModel {
  const input = tf.input({ shape: [F] });
  const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(input) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(bn) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Mean over batches of each feature's batch mean and (biased) batch variance. */
function reference(x: number[][], batches: [number, number][]): { mean: number[]; variance: number[] } {
  const F = x[0].length;
  const mean = new Array(F).fill(0);
  const variance = new Array(F).fill(0);
  for (const [a, b] of batches) {
    for (let f = 0; f < F; f++) {
      const col = x.slice(a, b).map((r) => r[f]);
      const m = col.reduce((s, v) => s + v, 0) / col.length;
      mean[f] += m / batches.length;
      variance[f] += col.reduce((s, v) => s + (v - m) ** 2, 0) / col.length / batches.length;
    }
  }
  return { mean, variance };
}

const toDataset = (x: number[][]): Dataset => ({ name: 't', sampleShape: [x[0].length], x: Float32Array.from(x.flat()), y: new Int32Array(x.length), numClasses: 2 });

describe('recalibrateBatchNorm', () => {
  it('sets the moving statistics to the average of the batch statistics, leaving weights and momentum alone', () => {
    const x = Array.from({ length: 10 }, (_, i) => [i * 0.5 - 1, (i * i) % 7, 3]);
    const model = bnModel(3);
    const bn = model.getLayer('bn') as tf.layers.Layer & { momentum: number };
    const trainable = model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    expect(recalibrateBatchNorm(model, toDataset(x), 4)).toBe(1);
    const ref = reference(x, [[0, 4], [4, 8], [8, 10]]);
    const [, , movingMean, movingVariance] = bn.getWeights();
    Array.from(movingMean.dataSync()).forEach((v, f) => expect(v).toBeCloseTo(ref.mean[f], 5));
    Array.from(movingVariance.dataSync()).forEach((v, f) => expect(v).toBeCloseTo(ref.variance[f], 5));
    expect(bn.momentum).toBe(0.99);
    expect(model.trainableWeights.map((w) => Array.from(w.read().dataSync()))).toEqual(trainable);
  });

  it('folds a last batch of one sample into the batch before it', () => {
    const x = Array.from({ length: 9 }, (_, i) => [Math.sin(i), i]);
    const model = bnModel(2);
    recalibrateBatchNorm(model, toDataset(x), 4);
    const ref = reference(x, [[0, 4], [4, 9]]);
    const [, , movingMean, movingVariance] = model.getLayer('bn').getWeights();
    Array.from(movingMean.dataSync()).forEach((v, f) => expect(v).toBeCloseTo(ref.mean[f], 5));
    Array.from(movingVariance.dataSync()).forEach((v, f) => expect(v).toBeCloseTo(ref.variance[f], 5));
  });

  it('does nothing to a model without BN, and refuses a batch size that has no variance', () => {
    const plain = buildModel({ kind: 'mlp', hidden: [4] }, { inputShape: [2], numClasses: 2, seed: 1 });
    const before = plain.getWeights().map((w) => Array.from(w.dataSync()));
    expect(recalibrateBatchNorm(plain, toDataset([[1, 2], [3, 4]]))).toBe(0);
    expect(plain.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    expect(() => recalibrateBatchNorm(bnModel(2), toDataset([[1, 2], [3, 4]]), 1)).toThrow(/batchSize must be an integer >= 2, got 1/);
  });
});

describe('recalibrated teachers', () => {
  it('are derived from the cached plain teachers, with the weights that training them from scratch gives', async () => {
    const base = loadScenario(new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname);
    const spec = { kind: 'cnn', conv: [4], dense: [8], batchNorm: true };
    const plain = { ...base, partition: { ...base.partition, devices: 2 }, teacherSpecs: [spec, spec], teacherTraining: { ...base.teacherTraining, epochs: 1, augment: { noise: 0.3 } } };
    const recalibrated = { ...plain, teacherTraining: { ...plain.teacherTraining, recalibrateBn: true } };
    const { train } = loadDataset(plain.dataset, { splitSeed: 4 });
    const parts = partitionDataset(train, { ...plain.partition, seed: 4 });
    const weights = (models: tf.LayersModel[]) => models.map((m) => m.getWeights().map((w) => Array.from(w.dataSync())));

    process.env.DISTILLERY_CACHE = join(cache, 'scratch');
    const scratchLines: string[] = [];
    const scratch = await prepareTeachers(recalibrated, 4, train, parts, (l) => scratchLines.push(l), 0);
    expect(scratchLines.filter((l) => /^teacher \d: trained on/.test(l))).toHaveLength(2);

    process.env.DISTILLERY_CACHE = join(cache, 'derived');
    const plainTeachers = await prepareTeachers(plain, 4, train, parts, () => {}, 0);
    const lines: string[] = [];
    const derived = await prepareTeachers(recalibrated, 4, train, parts, (l) => lines.push(l), 2);
    expect(lines).toHaveLength(2);
    lines.forEach((l, d) => expect(l).toMatch(new RegExp(`^teacher ${d}: 1 BN layer recalibrated on ${parts[d].indices.length} local samples from .*`)));
    expect(weights(derived.models)).toEqual(weights(scratch.models));
    // Recalibration moved the BN statistics of the noise-trained teachers; the plain ones stay cached as they were.
    expect(weights(derived.models)).not.toEqual(weights(plainTeachers.models));
    expect(derived.dirs).not.toEqual(plainTeachers.dirs);
  });
});
