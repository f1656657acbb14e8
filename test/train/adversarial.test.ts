/**
 * Adversarial training inputs (FGSM with a random start): the step against a hand-computed one on a linear
 * softmax model, the L-infinity bound, BN statistics left alone by the attack, and robustness actually gained
 * by a model trained on them (digits).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { seededRandom } from '../../shared/random.js';
import { adversarialInputs } from '../../shared/train/adversarial.js';
import { parseTrainingAugmentation } from '../../shared/train/augment.js';
import { fit } from '../../shared/train/fit.js';
import { buildModel } from '../../shared/models/build.js';
import { loadDataset } from '../../shared/data/registry.js';
import { sampleCount, type Dataset } from '../../shared/data/dataset.js';

beforeAll(async () => {
  await initBackend(() => {});
});

/** logits = x W (no bias): the cross-entropy's input gradient is W (p - y) / n per row, computable by hand. */
function linearModel(W: number[][]): tf.LayersModel {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [W.length], units: W[0].length, useBias: false })] });
  m.setWeights([tf.tensor2d(W)]);
  return m;
}

function softmax(v: number[]): number[] {
  const top = Math.max(...v);
  const e = v.map((a) => Math.exp(a - top));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((a) => a / s);
}

describe('adversarial training inputs', () => {
  it('take one signed-gradient step of 1.25 epsilon from a uniform start, clipped to the epsilon ball', () => {
    const W = [[1, -2, 0.5], [-1, 0.3, 2], [0.7, 0.2, -1.5], [2, -0.4, 0.1]];
    const xs = [[0.2, 0.9, 0.1, 0.5], [0.6, 0.1, 0.8, 0.3]];
    const ys = [0, 2];
    const eps = 0.1;
    const model = linearModel(W);
    const x = tf.tensor2d(xs);
    const labels = tf.oneHot(tf.tensor1d(ys, 'int32'), 3);
    const out = adversarialInputs(model, x, labels, eps, seededRandom(9)).arraySync() as number[][];
    // The same start the function draws: its one call on the stream is the seed of tf.randomUniform.
    const start = tf.randomUniform([2, 4], -eps, eps, 'float32', seededRandom(9).int(2 ** 31)).arraySync() as number[][];
    xs.forEach((row, i) => {
      const moved = row.map((v, f) => v + start[i][f]);
      const p = softmax(W[0].map((_, k) => moved.reduce((s, v, f) => s + v * W[f][k], 0)));
      const grad = W.map((wf) => wf.reduce((s, w, k) => s + w * (p[k] - (k === ys[i] ? 1 : 0)), 0));
      row.forEach((v, f) => {
        const delta = Math.min(eps, Math.max(-eps, start[i][f] + 1.25 * eps * Math.sign(grad[f])));
        expect(out[i][f]).toBeCloseTo(v + delta, 5);
        expect(Math.abs(out[i][f] - v)).toBeLessThanOrEqual(eps + 1e-6);
      });
    });
    expect(adversarialInputs(model, x, labels, eps, seededRandom(9)).arraySync()).toEqual(out);
    expect(() => adversarialInputs(model, x, labels, 0, seededRandom(1))).toThrow(/epsilon must be > 0, got 0/);
    tf.dispose([x, labels]);
    model.dispose();
  });

  it('leave batch-norm moving statistics where they were', () => {
    const m = buildModel({ kind: 'cnn', conv: [4], dense: [8], batchNorm: true }, { inputShape: [8, 8, 1], numClasses: 3, seed: 1 });
    const before = m.getWeights().map((w) => Array.from(w.dataSync()));
    const x = tf.randomUniform([16, 8, 8, 1], 0, 1, 'float32', 3);
    const labels = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32'), 3);
    const out = adversarialInputs(m, x, labels, 0.2, seededRandom(2));
    expect(m.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    expect(tf.max(tf.abs(tf.sub(out, x))).dataSync()[0]).toBeLessThanOrEqual(0.2 + 1e-6);
    tf.dispose([x, labels, out]);
    m.dispose();
  });

  it('train a model that keeps more accuracy under attack than plain training (digits)', async () => {
    const { train, test } = loadDataset('digits', { splitSeed: 1 });
    const eps = 0.15;
    const attackAccuracy = (m: tf.LayersModel, d: Dataset) =>
      tf.tidy(() => {
        const x = tf.tensor(d.x, [sampleCount(d), ...d.sampleShape]);
        const labels = tf.oneHot(tf.tensor1d(d.y, 'int32'), d.numClasses);
        // Plain FGSM at the full radius (no random start): the standard robustness check.
        const g = tf.grad((input: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, m.apply(input) as tf.Tensor) as tf.Scalar)(x);
        const attacked = tf.add(x, tf.mul(tf.sign(g), eps));
        const hits = tf.equal(tf.argMax(m.apply(attacked) as tf.Tensor, 1), tf.tensor1d(d.y, 'int32'));
        return tf.mean(tf.cast(hits, 'float32')).dataSync()[0];
      });
    const trained = async (augment?: { adversarial: number }) => {
      const m = buildModel({ kind: 'mlp', hidden: [64] }, { inputShape: train.sampleShape, numClasses: train.numClasses, seed: 1 });
      await fit(m, train, { epochs: 15, batchSize: 32, learningRate: 3e-3, seed: 2, ...(augment ? { augment } : {}) });
      return m;
    };
    const plain = await trained();
    const robust = await trained({ adversarial: eps });
    const [plainUnderAttack, robustUnderAttack] = [attackAccuracy(plain, test), attackAccuracy(robust, test)];
    // Measured: 4.5% plain, 60.8% adversarially trained.
    expect(robustUnderAttack).toBeGreaterThan(plainUnderAttack + 0.1);
    tf.dispose([plain, robust].flatMap((m) => m.getWeights()));
  }, 60_000);

  it('are configured as augment.adversarial, an L-infinity radius in 0..0.5', () => {
    expect(parseTrainingAugmentation({ adversarial: 0.05 }, 'p')).toEqual({ adversarial: 0.05 });
    expect(parseTrainingAugmentation({ adversarial: 0 }, 'p')).toBeUndefined();
    expect(() => parseTrainingAugmentation({ adversarial: 0.8 }, 'p')).toThrow(/p.adversarial: must be a number in 0..0.5 \(an L-infinity radius\), got 0.8/);
    expect(() => parseTrainingAugmentation({ adversarial: '0.1' }, 'p')).toThrow(/p.adversarial: must be a number in 0..0.5/);
  });
});
