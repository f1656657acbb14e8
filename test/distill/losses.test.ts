/** The student's distillation losses against hand-computed values. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { directionalDerivativeLoss, kdLoss, kdPerSample, logitMatchLoss } from '../../shared/distill/losses.js';

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

describe('Jacobian matching along directions', () => {
  // A linear model z = x W + b: the derivative of u · z along v is v · (W u), exactly, at any epsilon.
  const W = [[1, 2, 0], [0, -1, 3]];
  const linear = () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2] })] });
    model.setWeights([tf.tensor2d(W), tf.tensor1d([0.5, -0.5, 2])]);
    return model;
  };

  it('compares the margin\'s directional derivative with the teacher\'s, as a mean squared error', () => {
    const x = tf.tensor2d([[0.3, -1], [2, 0.5]]);
    const u = tf.tensor2d([[1, -1, 0], [0, 1, -1]]);
    const v = tf.tensor2d([[1, 0], [0.6, 0.8]]);
    // W u: row 1 (1 − 2, 0 + 1) = (−1, 1), derivative along (1, 0) = −1; row 2 (2 − 0, −1 − 3) = (2, −4),
    // along (0.6, 0.8) = 1.2 − 3.2 = −2. Teacher values 0 and −2: squared errors 1 and 0, mean 0.5.
    const loss = directionalDerivativeLoss(linear(), x, u, v, tf.tensor1d([0, -2]), 0.1);
    expect(loss.dataSync()[0]).toBeCloseTo(0.5, 4);
    expect(directionalDerivativeLoss(linear(), x, u, v, tf.tensor1d([-1, -2]), 0.01).dataSync()[0]).toBeCloseTo(0, 4);
  });

  it('follows the true derivative of a max-pooling ReLU network as epsilon shrinks', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [6, 6, 1], kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
    const x = tf.randomUniform([2, 6, 6, 1], 0, 1, 'float32', 5);
    const v = tf.randomNormal([2, 6, 6, 1], 0, 1, 'float32', 6);
    const u = tf.tensor2d([[1, 0, -1], [-1, 1, 0]]);
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(model.apply(xi) as tf.Tensor, u)))(x);
    const exact = tf.sum(tf.mul(g, v), [1, 2, 3]);
    expect(directionalDerivativeLoss(model, x, u, v, exact, 1e-3).dataSync()[0]).toBeLessThan(1e-4);
    // The same loss against a teacher one unit off on every sample is about 1.
    expect(directionalDerivativeLoss(model, x, u, v, tf.add(exact, 1), 1e-3).dataSync()[0]).toBeCloseTo(1, 2);
  });

  it('refuses shapes that do not line up and a non-positive epsilon, naming them', () => {
    const x = tf.tensor2d([[0, 0]]);
    const u = tf.tensor2d([[1, -1, 0]]);
    expect(() => directionalDerivativeLoss(linear(), x, u, tf.tensor2d([[1, 0, 0]]), tf.tensor1d([0]), 0.1)).toThrow(/directions \[1,3\]/);
    expect(() => directionalDerivativeLoss(linear(), x, u, tf.tensor2d([[1, 0]]), tf.tensor1d([0]), 0)).toThrow(/positive epsilon/);
  });
});
