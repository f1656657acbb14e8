/**
 * The devices' focal CE term (GradientQuery.ceFocal, Co-Boosting's hard-sample loss): each sample's CE is
 * weighted by (1 − p_y)^γ held constant, so its value and input gradient equal those of plain CE with those
 * weights given as sample weights; black-box devices estimate the same loss; bad settings are named.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { deviceLoss, focalWeights, tapBatchNorm } from '../../edge-agent/teacher/device-loss.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { zerothOrderPort } from '../../shared/distill/zeroth-order.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { seededRandom } from '../../shared/random.js';
import { softmaxRows } from '../../shared/math/softmax.js';
import { digitsFleet, type Fleet } from './fleet-fixture.js';

/** dense(3 classes) with fixed weights, so each row's probabilities are easy to compute by hand. */
function linearTeacher(): tf.LayersModel {
  const input = tf.input({ shape: [2] });
  const out = tf.layers.dense({ units: 3, weights: [tf.tensor2d([[1, -1, 0.5], [0.2, 0.7, -0.3]]), tf.tensor1d([0, 0.1, -0.2])] }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** One row's probabilities. */
const softmax = (row: number[]) => Array.from(softmaxRows(row, row.length));

describe('focal CE on the device', () => {
  const x = tf.tensor2d([[0.3, -1], [1.2, 0.4], [-0.5, 2], [2, 2]]);
  const labels = [0, 1, 2, 0];
  const targets = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
  const weights = { ce: 1, bn: 0, adv: 0 };

  it('weights each row by (1 − p_y)^γ: the hand-computed value', () => {
    const t = tapBatchNorm(linearTeacher());
    const rows = x.arraySync() as number[][];
    const expected = rows
      .map(([a, b], i) => {
        const p = softmax([a * 1 + b * 0.2, a * -1 + b * 0.7 + 0.1, a * 0.5 + b * -0.3 - 0.2]);
        return (1 - p[labels[i]]) ** 2 * -Math.log(p[labels[i]]);
      })
      .reduce((s, v) => s + v, 0) / rows.length;
    const value = deviceLoss(t, { x, targets, sampleWeights: tf.ones([4]), weights, ceFocal: 2 }).ce.dataSync()[0];
    expect(value).toBeCloseTo(expected, 5);
    // γ = 0 (or absent) is plain CE.
    const plain = deviceLoss(t, { x, targets, sampleWeights: tf.ones([4]), weights }).ce.dataSync()[0];
    expect(deviceLoss(t, { x, targets, sampleWeights: tf.ones([4]), weights, ceFocal: 0 }).ce.dataSync()[0]).toBeCloseTo(plain, 6);
    expect(value).toBeLessThan(plain);
  });

  it('has the input gradient of plain CE with the focal weights as constant sample weights', () => {
    const t = tapBatchNorm(linearTeacher());
    const shares = tf.tensor1d([1, 0.5, 0.25, 1]);
    const gamma = 1.5;
    const focal = tf.grad((input: tf.Tensor) => deviceLoss(t, { x: input, targets, sampleWeights: shares, weights, ceFocal: gamma }).total)(x);
    const constant = tf.mul(shares, focalWeights(t.model.apply(x) as tf.Tensor, targets, gamma));
    const reference = tf.grad((input: tf.Tensor) => deviceLoss(t, { x: input, targets, sampleWeights: constant, weights }).total)(x);
    const plain = tf.grad((input: tf.Tensor) => deviceLoss(t, { x: input, targets, sampleWeights: shares, weights }).total)(x);
    (focal.arraySync() as number[][]).flat().forEach((v, i) => expect(v).toBeCloseTo((reference.arraySync() as number[][]).flat()[i], 5));
    // And it differs from plain CE's, so the weights are not silently dropped.
    expect(Math.max(...tf.abs(tf.sub(focal, plain)).dataSync())).toBeGreaterThan(1e-3);
  });

  it('applies to per-class CE weights (classWeights) too', () => {
    const t = tapBatchNorm(linearTeacher());
    const classWeights = tf.tensor2d([[1, 0, 0], [0, 0.5, 0.1], [0, 0, 1], [0.7, 0, 0]]);
    const value = deviceLoss(t, { x, targets, sampleWeights: tf.ones([4]), classWeights, weights, ceFocal: 1 }).ce.dataSync()[0];
    const logits = t.model.apply(x) as tf.Tensor;
    const rowCe = tf.sum(tf.mul(classWeights, tf.neg(tf.logSoftmax(logits))), -1);
    expect(value).toBeCloseTo(tf.mean(tf.mul(rowCe, focalWeights(logits, targets, 1))).dataSync()[0], 5);
  });
});

describe('focal CE across the port', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await digitsFleet(1, 3);
  });

  function inputs(seed: number, n: number) {
    const rng = seededRandom(seed);
    return { shape: [n, 8, 8, 1], values: Float32Array.from({ length: n * 64 }, () => rng.next()) };
  }

  it('a black-box device reports the same focal CE at x as a white-box one, and its estimate points the same way', async () => {
    const model = fleet.models[0];
    const white = new LocalTeacher({ deviceId: 'w', model, labelHistogram: fleet.parts[0].histogram });
    const black = zerothOrderPort(new LocalTeacher({ deviceId: 'b', model, labelHistogram: fleet.parts[0].histogram, blackBox: true }), { directions: 64, mu: 1e-3, seed: 1 });
    const query = { inputs: inputs(4, 4), targets: Int32Array.from([0, 3, 5, 9]), weights: { ce: 1, bn: 0, adv: 0 }, ceFocal: 2 };
    const exact = await white.gradient(query);
    const estimate = await black.gradient(query);
    const plain = await white.gradient({ ...query, ceFocal: undefined });
    expect(estimate.loss.ce).toBeCloseTo(exact.loss.ce, 4);
    expect(exact.loss.ce).toBeLessThan(plain.loss.ce);
    let dot = 0, na = 0, nb = 0;
    exact.inputGradient.values.forEach((v, i) => {
      const w = estimate.inputGradient.values[i];
      dot += v * w; na += v * v; nb += w * w;
    });
    expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.5);
  });

  it('a device refuses a focusing exponent out of range with the field named', async () => {
    const t = new LocalTeacher({ deviceId: 'dev-1', model: fleet.models[0], labelHistogram: fleet.parts[0].histogram });
    const query = { inputs: inputs(1, 2), targets: Int32Array.from([0, 1]), weights: { ce: 1, bn: 0, adv: 0 } };
    await expect(t.gradient({ ...query, ceFocal: -1 })).rejects.toThrow(/device dev-1: ceFocal must be a number in 0\.\.10, got -1/);
    await expect(t.gradient({ ...query, ceFocal: 11 })).rejects.toThrow(/ceFocal must be a number in 0\.\.10/);
  });
});

describe('ceFocal setting', () => {
  it('defaults to 0 and is validated with the field named', () => {
    expect(parseDistillConfig({}).ceFocal).toBe(0);
    expect(parseDistillConfig({ ceFocal: 1.5 }).ceFocal).toBe(1.5);
    expect(() => parseDistillConfig({ ceFocal: -1 })).toThrow(/distill\.ceFocal: must be a number in 0\.\.10/);
    expect(() => parseDistillConfig({ ceFocal: 12 })).toThrow(/distill\.ceFocal/);
    expect(() => parseDistillConfig({ ceFocal: '1' })).toThrow(/distill\.ceFocal/);
  });
});
