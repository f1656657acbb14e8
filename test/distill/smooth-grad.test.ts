/**
 * SmoothGrad on the device (GradientQuery.smoothGrad): the returned gradient is the BN term's gradient at x plus
 * the mean over the noisy copies of the CE and adversarial terms' gradients, checked against plain queries at
 * hand-built noisy inputs; the logits stay at x; the noise is reproducible from the seed; bad settings are
 * refused with the field named.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { smoothGradNoise } from '../../edge-agent/teacher/device-loss.js';
import type { GradientQuery, GradientReply } from '../../shared/distill/port.js';

/** dense(6, relu) → batchNorm (moving mean 0.2, variance 2) → dense(3), seeded: a teacher with one BN layer. */
function teacher(): tf.LayersModel {
  const input = tf.input({ shape: [4] });
  const h = tf.layers.dense({ units: 6, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ movingMeanInitializer: tf.initializers.constant({ value: 0.2 }), movingVarianceInitializer: tf.initializers.constant({ value: 2 }) }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(bn) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

const n = 5;
const inputs = { shape: [n, 4], values: Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i * 1.7) * 0.8 + 0.5) };
const base: GradientQuery = {
  inputs,
  targets: Int32Array.from([0, 1, 2, 1, 0]),
  sampleWeights: Float32Array.from([1, 0.5, 0.25, 1, 0.75]),
  studentProbs: { shape: [n, 3], values: Float32Array.from({ length: n * 3 }, (_, i) => [0.2, 0.3, 0.5][i % 3]) },
  weights: { ce: 1, bn: 1, adv: 0.5 },
};
const device = new LocalTeacher({ deviceId: 'd0', model: teacher(), labelHistogram: [3, 2, 1] });

function add(a: Float32Array, b: Float32Array, scale = 1): Float32Array {
  return a.map((v, i) => v + scale * b[i]);
}

describe('SmoothGrad on the device', () => {
  it('returns the BN gradient at x plus the mean of the CE and adversarial gradients at the noisy copies', async () => {
    const smoothGrad = { sigma: 0.3, samples: 3, seed: 7 };
    const got = await device.gradient({ ...base, smoothGrad });
    const noise = smoothGradNoise(smoothGrad, inputs.values.length);
    const bnOnly = await device.gradient({ ...base, weights: { ce: 0, bn: 1, adv: 0 } });
    const copies: GradientReply[] = [];
    for (let k = 0; k < 3; k++) {
      const noisy = add(inputs.values, noise.subarray(k * inputs.values.length, (k + 1) * inputs.values.length));
      copies.push(await device.gradient({ ...base, inputs: { shape: inputs.shape, values: noisy }, weights: { ce: 1, bn: 0, adv: 0.5 } }));
    }
    const expected = copies.reduce((sum, r) => add(sum, r.inputGradient.values, 1 / 3), bnOnly.inputGradient.values);
    got.inputGradient.values.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(got.loss.ce).toBeCloseTo(copies.reduce((s, r) => s + r.loss.ce / 3, 0), 5);
    expect(got.loss.adv).toBeCloseTo(copies.reduce((s, r) => s + r.loss.adv / 3, 0), 5);
    expect(got.loss.bn).toBeCloseTo(bnOnly.loss.bn, 5);
    // The logits describe x itself: they are what the replay buffer's soft labels are made of.
    expect(Array.from(got.logits.values)).toEqual(Array.from(bnOnly.logits.values));
    // And the smoothing changed the answer: the noisy copies' gradients differ from the one at x.
    const plain = await device.gradient(base);
    expect(Math.max(...got.inputGradient.values.map((v, i) => Math.abs(v - plain.inputGradient.values[i])))).toBeGreaterThan(1e-3);
  });

  it('is reproducible from the seed, differs across seeds, and with sigma 0 is the plain answer', async () => {
    const a = await device.gradient({ ...base, smoothGrad: { sigma: 0.2, samples: 1, seed: 11 } });
    const again = await device.gradient({ ...base, smoothGrad: { sigma: 0.2, samples: 1, seed: 11 } });
    const other = await device.gradient({ ...base, smoothGrad: { sigma: 0.2, samples: 1, seed: 12 } });
    expect(Array.from(again.inputGradient.values)).toEqual(Array.from(a.inputGradient.values));
    expect(Array.from(other.inputGradient.values)).not.toEqual(Array.from(a.inputGradient.values));
    const plain = await device.gradient(base);
    const off = await device.gradient({ ...base, smoothGrad: { sigma: 0, samples: 4, seed: 3 } });
    expect(Array.from(off.inputGradient.values)).toEqual(Array.from(plain.inputGradient.values));
  });

  it('draws Gaussian noise of the asked width, copy after copy', () => {
    const noise = smoothGradNoise({ sigma: 0.25, samples: 2, seed: 5 }, 10_000);
    expect(noise).toHaveLength(20_000);
    const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
    const sd = Math.sqrt(noise.reduce((a, b) => a + (b - mean) ** 2, 0) / noise.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(sd).toBeGreaterThan(0.24);
    expect(sd).toBeLessThan(0.26);
    // The two copies are different draws, not one draw repeated.
    expect(Array.from(noise.subarray(0, 10))).not.toEqual(Array.from(noise.subarray(10_000, 10_010)));
  });

  it.each([
    [{ sigma: -0.1, samples: 1, seed: 1 }, /device d0: smoothGrad.sigma must be a finite number >= 0, got -0.1/],
    [{ sigma: 0.1, samples: 0, seed: 1 }, /device d0: smoothGrad.samples must be an integer in 1..16, got 0/],
    [{ sigma: 0.1, samples: 17, seed: 1 }, /smoothGrad.samples must be an integer in 1..16, got 17/],
    [{ sigma: 0.1, samples: 1, seed: -3 }, /smoothGrad.seed must be an integer >= 0, got -3/],
  ])('refuses %j with the field named', async (smoothGrad, reason) => {
    await expect(device.gradient({ ...base, smoothGrad })).rejects.toThrow(reason);
  });
});
