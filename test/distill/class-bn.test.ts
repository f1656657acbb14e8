/**
 * Per-class batch-norm statistics (BnClassMix 'class'): measured on a device's data against moments computed by
 * hand, the device-side term against a hand-computed value, its gradient pulling each class toward its own
 * statistics, and the errors a device without statistics (or with the wrong ones) answers with.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { classBnWeights, deviceLoss, tapBatchNorm, type ClassBnTerms } from '../../edge-agent/teacher/device-loss.js';
import { checkClassStats, measureClassBatchNormStats, teacherClassStats, type ClassBatchNormStats } from '../../edge-agent/teacher/class-stats.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import type { Dataset } from '../../shared/data/dataset.js';
import type { GradientQuery } from '../../shared/distill/port.js';

/** A [2, 1, 1] image → batchNorm → flatten → dense(3): the BN layer's input is the image itself, one channel. */
function teacher(): tf.LayersModel {
  const input = tf.input({ shape: [2, 1, 1] });
  const bn = tf.layers.batchNormalization().apply(input) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(bn) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, kernelInitializer: 'ones' }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

// Three samples of two pixels each: class 0 holds (1, 3) and (5, 7), class 1 holds (2, 2); class 2 none.
const data: Dataset = { name: 'toy', sampleShape: [2, 1, 1], x: Float32Array.from([1, 3, 2, 2, 5, 7]), y: Int32Array.from([0, 1, 0]), numClasses: 3 };

describe('per-class batch-norm statistics', () => {
  it('are the mean and variance of each class\'s BN inputs over samples and positions', () => {
    // Class 0 values 1, 3, 5, 7: mean 4, variance (9 + 1 + 1 + 9) / 4 = 5. Class 1 values 2, 2: mean 2, variance 0.
    for (const batchSize of [2, 256]) {
      const s = measureClassBatchNormStats(tapBatchNorm(teacher()), data, batchSize);
      expect(s.counts).toEqual([2, 1, 0]);
      expect(s.layers).toHaveLength(1);
      expect(s.layers[0].channels).toBe(1);
      expect(Array.from(s.layers[0].mean)).toEqual([4, 2, 0]);
      expect(Array.from(s.layers[0].variance).map((v) => +v.toFixed(5))).toEqual([5, 0, 0]);
    }
  });

  it('a teacher without BN layers has none to measure', () => {
    const plain = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 1, 1] }), tf.layers.dense({ units: 3 })] });
    expect(measureClassBatchNormStats(tapBatchNorm(plain), data).layers).toEqual([]);
    expect(teacherClassStats(plain, data)).toBeUndefined();
  });

  it('weights each present class the device has statistics of by its samples\' CE weights over n', () => {
    const { classes, weights } = classBnWeights(Int32Array.from([2, 0, 0, 1]), Float32Array.from([0.5, 0.2, 0.4, 1]), [5, 5, 0]);
    expect(Array.from(classes)).toEqual([0, 1]); // class 2: the device has no statistics of it
    expect(Array.from(weights)).toEqual([0.6 / 4, 1 / 4].map(Math.fround));
    expect(Array.from(classBnWeights(Int32Array.from([1, 1]), undefined, [0, 3]).weights)).toEqual([1]);
    expect(classBnWeights(Int32Array.from([0]), Float32Array.from([0]), [1]).classes).toHaveLength(0);
  });

  it('the device-side term matches a hand-computed value, and descending it moves each class toward its statistics', () => {
    const tapped = tapBatchNorm(teacher());
    const stats: ClassBnTerms['stats'] = [{ mean: tf.tensor2d([4, 2, 0], [3, 1]), variance: tf.tensor2d([5, 0, 0], [3, 1]) }];
    // Batch: class 0 (0, 0) and (2, 2): mean 1, variance 1 → |1 − 4| + |1 − 5| = 7; class 1 (4, 6): mean 5,
    // variance 1 → |5 − 2| + |1 − 0| = 4. Weights 2/3 and 1/3 (CE weights 1): 7 · 2/3 + 4 · 1/3 = 6.
    const targets = Int32Array.from([0, 0, 1]);
    const classBn = { ...classBnWeights(targets, undefined, [2, 1, 0]), stats };
    const x = tf.tensor4d([0, 0, 2, 2, 4, 6], [3, 2, 1, 1]);
    const q = { targets: tf.oneHot(tf.tensor1d(targets, 'int32'), 3), sampleWeights: tf.ones([3]), weights: { ce: 0, bn: 1, adv: 0 }, classBn };
    expect(deviceLoss(tapped, { ...q, x }).bn.dataSync()[0]).toBeCloseTo(6, 4);
    // The running statistics (mean 0, variance 1) over the whole batch give another value: the six values
    // 0, 0, 2, 2, 4, 6 have mean 7/3 and variance 10 − 49/9 = 41/9, so 7/3 + (41/9 − 1) = 7/3 + 32/9.
    expect(deviceLoss(tapped, { ...q, x, classBn: undefined }).bn.dataSync()[0]).toBeCloseTo(7 / 3 + 32 / 9, 4);
    expect(() => checkClassStats({ numClasses: 3, counts: [1, 1], layers: [] }, tapped, 3, 'd2')).toThrow(/device d2: per-class batch-norm statistics count samples of 2 classes, the teacher has 3/);
    let moved = x;
    for (let i = 0; i < 300; i++) {
      const g = tf.grad((input: tf.Tensor) => deviceLoss(tapped, { ...q, x: input }).total)(moved);
      moved = tf.sub(moved, tf.mul(1 / (1 + i / 20), g));
    }
    const v = moved.dataSync();
    expect(deviceLoss(tapped, { ...q, x: moved }).bn.dataSync()[0]).toBeLessThan(0.05);
    expect((v[0] + v[1] + v[2] + v[3]) / 4).toBeCloseTo(4, 1); // class 0's mean → 4
    expect((v[4] + v[5]) / 2).toBeCloseTo(2, 1); // class 1's mean → 2, its variance → 0 (no NaN at 0)
    expect(Math.abs(v[4] - v[5])).toBeLessThan(0.05);
  });

  it('a LocalTeacher answers \'class\' queries from its statistics and refuses them without, naming the fix', async () => {
    const model = teacher();
    const query: GradientQuery = {
      inputs: { shape: [3, 2, 1, 1], values: Float32Array.from([0, 0, 2, 2, 4, 6]) },
      targets: Int32Array.from([0, 0, 1]),
      weights: { ce: 0, bn: 1, adv: 0 },
      bnClassMix: 'class',
    };
    const without = new LocalTeacher({ deviceId: 'd0', model, labelHistogram: [2, 1, 0] });
    await expect(without.gradient(query)).rejects.toThrow(/device d0 has no per-class batch-norm statistics.*bnClassMix 'batch'/);
    const stats = measureClassBatchNormStats(tapBatchNorm(model), data);
    const withStats = new LocalTeacher({ deviceId: 'd0', model, labelHistogram: [2, 1, 0], classStats: stats });
    expect((await withStats.gradient(query)).loss.bn).toBeCloseTo(6, 4);
    const wrong: ClassBatchNormStats = { ...stats, layers: [{ channels: 2, mean: new Float32Array(6), variance: new Float32Array(6) }] };
    expect(() => new LocalTeacher({ deviceId: 'd1', model, labelHistogram: [2, 1, 0], classStats: wrong })).toThrow(/device d1: per-class batch-norm statistics of BN layer 0 have 2 channels/);
    expect(() => withStats.setClassStatistics({ ...stats, numClasses: 4, counts: [1, 1, 1, 1] })).toThrow(/are for 4 classes, the teacher has 3/);
  });
});
