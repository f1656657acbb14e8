/** The gradient query's per-device CE weights (ceSampleWeights) against hand-computed values. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ceSampleWeights, ensembleCeWeights } from '../../coordinator/engine/ce-weights.js';
import { deviceLoss } from '../../edge-agent/teacher/device-loss.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';

// Three classes; class 2 is held by nobody. Device 0 holds 30 of class 0 and none of class 1.
const histograms = [
  [30, 0, 0],
  [10, 40, 0],
];
const targets = Int32Array.from([0, 1, 2]);

describe('CE sample weights', () => {
  it('are each device share of the requested class, and alike for a class nobody holds', () => {
    const [d0, d1] = ceSampleWeights(histograms, targets);
    expect(Array.from(d0)).toEqual([0.75, 0, 0.5]);
    expect(Array.from(d1)).toEqual([0.25, 1, 0.5]);
  });

  it('with a floor, give every device at least floor / devices and still sum to 1 per sample', () => {
    const [d0, d1] = ceSampleWeights(histograms, targets, 0.4);
    // (1 - 0.4) * share + 0.4 / 2
    [0.65, 0.2, 0.5].forEach((w, i) => expect(d0[i]).toBeCloseTo(w, 6));
    [0.35, 0.8, 0.5].forEach((w, i) => expect(d1[i]).toBeCloseTo(w, 6));
    const [e0, e1] = ceSampleWeights(histograms, targets, 1);
    expect(Array.from(e0)).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(e1)).toEqual([0.5, 0.5, 0.5]);
  });

  it('ceFloor and generatorCe are validated and named in the error', () => {
    expect(parseDistillConfig({}).ceFloor).toBe(0);
    expect(parseDistillConfig({ ceFloor: 0.3 }).ceFloor).toBe(0.3);
    expect(() => parseDistillConfig({ ceFloor: 1.5 })).toThrow(/distill\.ceFloor: must be a number in \[0, 1\]/);
    expect(() => parseDistillConfig({ ceFloor: '0.2' })).toThrow(/distill\.ceFloor/);
    expect(parseDistillConfig({}).generatorCe).toBe('devices');
    expect(() => parseDistillConfig({ generatorCe: 'teachers' })).toThrow(/distill\.generatorCe: must be 'devices' or 'ensemble', got "teachers"/);
  });
});

describe('the ensemble CE split across devices (generatorCe "ensemble")', () => {
  /** A random linear teacher x → x W + b on 4 inputs and 3 classes, seeded. */
  function teacher(seed: number): tf.LayersModel {
    const input = tf.input({ shape: [4] });
    const out = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.randomNormal({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 100 }) }).apply(input) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  }

  it('the devices\' gradients, summed, are the gradient of the class-weighted vote\'s CE computed in one place', () => {
    // Device 0 never saw class 2, device 2 only class 2; class 1 is device 1's alone.
    const hist = [
      [50, 0, 0],
      [30, 20, 0],
      [0, 0, 40],
    ];
    const models = [1, 2, 3].map(teacher);
    const x = tf.tensor2d([[0.5, -1, 2, 0.1], [1, 1, -0.5, 0.3], [-2, 0.4, 0.2, 1]]);
    const targets = Int32Array.from([2, 1, 0]);
    const logits = models.map((m) => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
    const { weights: a, ce } = ensembleCeWeights(hist, logits, targets, 3);

    // Reference: L = mean_i −log q_i,y_i with log q ∝ Σ_d w_dc log softmax(l_d), w_dc = n_dc / Σ_d n_dc.
    const w = tf.tensor2d([[50 / 80, 0, 0], [30 / 80, 1, 0], [0, 0, 1]]);
    const onehot = tf.oneHot(tf.tensor1d(targets, 'int32'), 3);
    const voteCe = (input: tf.Tensor) => {
      const pooled = tf.addN(models.map((m, d) => tf.mul(tf.logSoftmax(m.apply(input) as tf.Tensor), tf.gather(w, d)))) as tf.Tensor;
      return tf.mean(tf.sum(tf.mul(onehot, tf.neg(tf.logSoftmax(pooled))), -1)) as tf.Scalar;
    };
    const reference = tf.grad(voteCe)(x);
    expect(ce).toBeCloseTo(voteCe(x).dataSync()[0], 5);

    const split = models.map((m, d) =>
      tf.grad((input: tf.Tensor) =>
        deviceLoss({ model: m, bnStats: [] }, { x: input, targets: onehot, sampleWeights: tf.ones([3]), classWeights: tf.tensor2d(a[d], [3, 3]), weights: { ce: 1, bn: 0, adv: 0 } }).total,
      )(x),
    );
    const summed = tf.addN(split).arraySync() as number[][];
    const expected = reference.arraySync() as number[][];
    expected.forEach((row, i) => row.forEach((v, j) => expect(summed[i][j]).toBeCloseTo(v, 5)));
    // Device 0 never saw class 2 but is still moved on sample 0 (asked as class 2): it votes there on classes 0.
    expect(Math.max(...(split[0].arraySync() as number[][])[0].map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('weights each class by the device\'s share, with the vote\'s q subtracted: rows sum to w_dy − Σ_c w_dc q_c', () => {
    // Two devices with equal logits: q is their common softmax, whatever the weights.
    const hist = [
      [1, 3],
      [3, 1],
    ];
    const l = Float32Array.from([0, Math.log(3)]); // p = [0.25, 0.75]
    const { weights: [a0, a1], ce } = ensembleCeWeights(hist, [l, l], Int32Array.from([0]), 2);
    expect(ce).toBeCloseTo(-Math.log(0.25), 6);
    // a_dc = w_dc ([c = 0] − q_c): device 0 weighs class 0 by 1/4 and class 1 by 3/4.
    expect(a0[0]).toBeCloseTo(0.25 * 0.75, 6);
    expect(a0[1]).toBeCloseTo(0.75 * -0.75, 6);
    expect(a1[0]).toBeCloseTo(0.75 * 0.75, 6);
    expect(a1[1]).toBeCloseTo(0.25 * -0.75, 6);
    expect(() => ensembleCeWeights(hist, [l], Int32Array.from([0]), 2)).toThrow(/1 logits for 2 histograms/);
  });
});
