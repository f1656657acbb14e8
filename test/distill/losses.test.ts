/** The student's distillation losses against hand-computed values. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { kdLoss, kdPerSample, logitMatchLoss } from '../../shared/distill/losses.js';

const softmax = (v: number[]) => {
  const e = v.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

describe('response-based KD', () => {
  it('gives each sample its KL and the batch tau² times their mean', () => {
    // Row 1: q = softmax([ln 3, 0]) = [0.75, 0.25] against p = [0.5, 0.5]: KL = 0.5 ln(4/3). Row 2: equal, 0.
    const logits = tf.tensor2d([[2 * Math.log(3), 0], [0.4, 0.4]]);
    const targets = tf.tensor2d([[0.5, 0.5], [0.5, 0.5]]);
    const perSample = Array.from(kdPerSample(logits, targets, 2).dataSync());
    expect(perSample[0]).toBeCloseTo(0.5 * Math.log(4 / 3), 6);
    expect(perSample[1]).toBeCloseTo(0, 6);
    expect(kdLoss(logits, targets, 2).dataSync()[0]).toBeCloseTo(4 * (0.5 * Math.log(4 / 3)) / 2, 6);
  });
});

describe('logit matching', () => {
  it('compares centred logits with tau · log p, so a constant shift of the student costs nothing', () => {
    // Targets at tau 2 from teacher logits [2, 0, -2]: tau · log p, centred, is [2, 0, -2] again.
    const targets = tf.tensor2d([softmax([1, 0, -1])]);
    expect(logitMatchLoss(tf.tensor2d([[3, 1, -1]]), targets, 2).dataSync()[0]).toBeCloseTo(0, 5);
    // Student [1, 0, 2] centred is [0, -1, 1]; squared differences 4 + 1 + 9 over 3 entries.
    expect(logitMatchLoss(tf.tensor2d([[1, 0, 2]]), targets, 2).dataSync()[0]).toBeCloseTo(14 / 3, 5);
  });
});
