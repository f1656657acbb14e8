/**
 * The device-side batch-norm term with BnClassMix 'own': the batch moments are weighted by the device's own
 * class counts, checked against moments computed by hand, and a device's gradient ignores classes it never saw.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { deviceLoss, ownClassMix, tapBatchNorm } from '../../edge-agent/teacher/device-loss.js';

/** dense(1 unit, w = 1, b = 0) → batchNorm(moving mean 0, variance 1) → dense(2): the BN input is Σ x. */
function teacher(): tf.LayersModel {
  const input = tf.input({ shape: [2] });
  const h = tf.layers.dense({ units: 1, kernelInitializer: 'ones', biasInitializer: 'zeros' }).apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, kernelInitializer: 'ones' }).apply(bn) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('batch-norm term weighted by the device\'s own class mix', () => {
  it('weights each sample by the device\'s count of its class, normalised; nothing for unseen classes', () => {
    expect(Array.from(ownClassMix([3, 0, 1], Int32Array.from([0, 1, 2, 0])).dataSync())).toEqual([3 / 7, 0, 1 / 7, 3 / 7].map(Math.fround));
    expect(Array.from(ownClassMix([0, 5], Int32Array.from([0, 0])).dataSync())).toEqual([0, 0]);
  });

  it('matches hand-computed weighted moments, and its input gradient is zero for unseen classes', () => {
    const t = tapBatchNorm(teacher());
    // BN inputs (x1 + x2): 1, 4, 10 for classes 0, 0, 1; the device saw classes 0 and 1 as 1 : 2.
    const x = tf.tensor2d([[0, 1], [1, 3], [4, 6]]);
    const targets = tf.oneHot(tf.tensor1d([0, 0, 1], 'int32'), 2);
    const base = { targets, sampleWeights: tf.ones([3]), weights: { ce: 0, bn: 1, adv: 0 } };
    const v = ownClassMix([1, 2], Int32Array.from([0, 0, 1])); // [1/4, 1/4, 1/2]
    // μ = (1 + 4)/4 + 10/2 = 6.25; σ² = ((1−6.25)² + (4−6.25)²)/4 + (10−6.25)²/2 = 15.1875; term |μ − 0| + |σ² − 1|.
    expect(deviceLoss(t, { ...base, x, bnSampleWeights: v }).bn.dataSync()[0]).toBeCloseTo(6.25 + 14.1875, 4);
    // Unweighted (DeepInversion): μ = 5, σ² = (16 + 1 + 25)/3 = 14.
    const mu = 5;
    const variance = 14;
    expect(deviceLoss(t, { ...base, x }).bn.dataSync()[0]).toBeCloseTo(mu + variance - 1, 4);
    // A device that never saw class 1 does not move the class-1 sample.
    const onlyClass0 = ownClassMix([4, 0], Int32Array.from([0, 0, 1]));
    const g = tf.grad((input: tf.Tensor) => deviceLoss(t, { ...base, x: input, bnSampleWeights: onlyClass0 }).total)(x);
    const rows = g.arraySync() as number[][];
    expect(rows[2]).toEqual([0, 0]);
    expect(Math.abs(rows[0][0])).toBeGreaterThan(0);
  });
});

describe('first-layer multiplier of the batch-norm term (bnFirstLayer)', () => {
  /** Two BN layers in a row: the first sees Σ x, the second that normalised by moving variance 4 (÷ 2). */
  function twoBn(): tf.LayersModel {
    const input = tf.input({ shape: [2] });
    const h = tf.layers.dense({ units: 1, kernelInitializer: 'ones', biasInitializer: 'zeros' }).apply(input) as tf.SymbolicTensor;
    const first = tf.layers.batchNormalization({ epsilon: 0, movingVarianceInitializer: tf.initializers.constant({ value: 4 }) }).apply(h) as tf.SymbolicTensor;
    const second = tf.layers.batchNormalization({ epsilon: 0 }).apply(first) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, kernelInitializer: 'ones' }).apply(second) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  }

  it('scales the first layer\'s term only', () => {
    const t = tapBatchNorm(twoBn());
    // First BN input Σ x = 1, 4, 10: μ = 5, σ² = 14 against (0, 4): 5 + 10. Second BN input (Σ x) / 2:
    // μ = 2.5, σ² = 3.5 against (0, 1): 2.5 + 2.5.
    const x = tf.tensor2d([[0, 1], [1, 3], [4, 6]]);
    const base = { x, targets: tf.oneHot(tf.tensor1d([0, 0, 1], 'int32'), 2), sampleWeights: tf.ones([3]), weights: { ce: 0, bn: 1, adv: 0 } };
    expect(deviceLoss(t, base).bn.dataSync()[0]).toBeCloseTo(15 + 5, 4);
    expect(deviceLoss(t, { ...base, bnFirstLayer: 10 }).bn.dataSync()[0]).toBeCloseTo(150 + 5, 3);
    expect(deviceLoss(t, { ...base, bnFirstLayer: 0 }).bn.dataSync()[0]).toBeCloseTo(5, 4);
  });
});
