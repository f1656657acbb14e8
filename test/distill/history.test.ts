/**
 * History repulsion (CMI-style coverage): the loss against a hand-computed value, its gradient pushing new
 * features away from the bank, a generator step that moves samples away from earlier ones, and validation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { historyRepulsion } from '../../shared/distill/losses.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { generatorStep } from '../../coordinator/engine/steps.js';
import { buildGenerator } from '../../coordinator/engine/generator.js';
import { buildModel, penultimateFeatures } from '../../shared/models/build.js';
import { initBackend } from '../../shared/compute/backend.js';

beforeAll(() => initBackend(() => {}));

const cosine = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);

describe('history repulsion', () => {
  it('is the mean log-sum-exp of cosine similarities over the temperature', () => {
    // f1 = (1, 0), f2 = (0, 2); bank h1 = (1, 0), h2 = (1, 1). Cosines: f1 → 1, 1/√2; f2 → 0, 1/√2. T = 0.5.
    const loss = historyRepulsion(tf.tensor2d([[1, 0], [0, 2]]), tf.tensor2d([[1, 0], [1, 1]]), 0.5).dataSync()[0];
    const r = Math.SQRT1_2 / 0.5;
    expect(loss).toBeCloseTo((Math.log(Math.exp(2) + Math.exp(r)) + Math.log(1 + Math.exp(r))) / 2, 5);
    expect(() => historyRepulsion(tf.zeros([2, 3]), tf.zeros([2, 4]), 0.1)).toThrow(/features \[n, d\] and a bank \[k, d\], got \[2, 3\] and \[2, 4\]/);
  });

  it('descending it moves a feature away from its nearest bank entry', () => {
    const bank = tf.tensor2d([[1, 0.1], [0, 1]]);
    let f = [0.9, 0.3];
    const before = cosine(f, [1, 0.1]);
    for (let i = 0; i < 20; i++) {
      const g = tf.grad((x: tf.Tensor) => historyRepulsion(x, bank, 0.1))(tf.tensor2d([f])).dataSync();
      f = f.map((v, j) => v - 0.05 * g[j]);
    }
    expect(cosine(f, [1, 0.1])).toBeLessThan(before - 0.1);
  });

  it('a generator step on it alone moves generated samples away from a bank of earlier ones', () => {
    const G = buildGenerator({ sampleShape: [8, 8, 1], numClasses: 10, zDim: 16, seed: 1 });
    const S = buildModel({ kind: 'cnn', conv: [4], dense: [16] }, { inputShape: [8, 8, 1], numClasses: 10, seed: 2 });
    const features = penultimateFeatures(S);
    expect(features.outputs[0].shape).toEqual([null, 16]);
    const z = tf.randomNormal([32, 16], 0, 1, 'float32', 3);
    const yOneHot = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 10), 'int32'), 10).toFloat();
    const generate = () => G.apply([z, yOneHot], { training: false }) as tf.Tensor;
    // The bank: features of the generator's own samples before training, i.e. "what it drew last time".
    const bank = features.apply(generate()) as tf.Tensor;
    const repulsion = () => historyRepulsion(features.apply(generate()) as tf.Tensor, bank, 0.1).dataSync()[0];
    const before = repulsion();
    const opt = tf.train.adam(0.01);
    const zeros = tf.zeros([32, 8, 8, 1]);
    for (let i = 0; i < 15; i++) generatorStep(G, S, opt, { z, yOneHot, deviceGradient: zeros, teacherProbs: [], coordinatorAdv: 0, diversity: 0, history: { features, bank, temperature: 0.1, weight: 1 } });
    expect(repulsion()).toBeLessThan(before - 0.5);
  });

  it('settings default to off and are validated with the field named', () => {
    expect(parseDistillConfig({}).historyContrast).toEqual({ weight: 0, bank: 256, temperature: 0.1 });
    expect(parseDistillConfig({ historyContrast: { weight: 0.5 } }).historyContrast).toEqual({ weight: 0.5, bank: 256, temperature: 0.1 });
    expect(() => parseDistillConfig({ historyContrast: { weight: -1 } })).toThrow(/distill.historyContrast.weight: must be a number >= 0, got -1/);
    expect(() => parseDistillConfig({ historyContrast: { bank: 0 } })).toThrow(/distill.historyContrast.bank: must be a positive integer, got 0/);
    expect(() => parseDistillConfig({ historyContrast: { temperature: 0 } })).toThrow(/distill.historyContrast.temperature: must be a number > 0/);
    expect(() => parseDistillConfig({ historyContrast: { tau: 1 } })).toThrow(/distill.historyContrast.tau: unknown setting; valid: weight, bank, temperature/);
    expect(() => parseDistillConfig({ historyContrast: 1 })).toThrow(/distill.historyContrast: must be an object/);
  });
});
