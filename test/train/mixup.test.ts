/**
 * Mixup for local training: each row is a blend of itself and one partner with the same λ for inputs and
 * targets, λ ≥ 1/2, the partners a permutation of the batch; Beta draws have the right mean; the config
 * field is validated; and a fit with mixup still learns (digits).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { seededRandom } from '../../shared/random.js';
import { betaDraw, mixupBatch } from '../../shared/train/mixup.js';
import { parseTrainingAugmentation } from '../../shared/train/augment.js';
import { fit, accuracyOf } from '../../shared/train/fit.js';
import { buildModel } from '../../shared/models/build.js';
import { loadDataset } from '../../shared/data/registry.js';

beforeAll(async () => {
  await initBackend(() => {});
});

describe('mixup', () => {
  it('blends each row with one partner, inputs and targets with the same lambda of at least 1/2', () => {
    // Row i of x is the basis vector e_i, so each mixed row shows its own weight and its partner's directly.
    const n = 6;
    const x = tf.eye(n);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
    const { x: mx, labels: ml } = mixupBatch(x, labels, 0.4, seededRandom(3));
    const X = mx.arraySync() as number[][];
    const L = ml.arraySync() as number[][];
    const y = [0, 1, 2, 0, 1, 2];
    const partners: number[] = [];
    for (let i = 0; i < n; i++) {
      const lam = X[i][i] >= 1 - 1e-6 ? 1 : X[i][i];
      expect(lam).toBeGreaterThanOrEqual(0.5 - 1e-6);
      const j = lam === 1 ? i : X[i].findIndex((v, k) => k !== i && v > 1e-6);
      partners.push(j);
      if (j !== i) expect(X[i][j]).toBeCloseTo(1 - lam, 5);
      expect(X[i].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      // The target is the same blend of the two rows' one-hot labels.
      const expected = [0, 0, 0];
      expected[y[i]] += lam;
      expected[y[j]] += 1 - lam;
      L[i].forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
    }
    tf.dispose([x, labels, mx, ml]);
  });

  it('draws lambda from Beta(alpha, alpha): mean 1/2, and more extreme draws for a smaller alpha', () => {
    const rng = seededRandom(1);
    const spread = (alpha: number) => {
      const d = Array.from({ length: 4000 }, () => betaDraw(rng, alpha));
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      const variance = d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length;
      return { mean, variance };
    };
    const small = spread(0.4);
    const large = spread(4);
    expect(small.mean).toBeCloseTo(0.5, 1);
    expect(large.mean).toBeCloseTo(0.5, 1);
    // Var Beta(a, a) = 1 / (4 (2a + 1)): 0.1389 for 0.4, 0.0278 for 4.
    expect(small.variance).toBeCloseTo(1 / (4 * 1.8), 1);
    expect(large.variance).toBeCloseTo(1 / 36, 2);
  });

  it('is validated as a config field', () => {
    expect(parseTrainingAugmentation({ mixup: 0.4 }, 'teachers.augment')).toEqual({ mixup: 0.4 });
    expect(() => parseTrainingAugmentation({ mixup: -1 }, 'teachers.augment')).toThrow(/teachers\.augment\.mixup: must be a number in 0\.\.10/);
    expect(() => parseTrainingAugmentation({ mixup: 'lots' }, 'teachers.augment')).toThrow(/mixup/);
  });

  it('still trains a model that learns digits', async () => {
    const { train, test } = loadDataset('digits', { splitSeed: 1 });
    const model = buildModel({ kind: 'mlp', hidden: [32] }, { inputShape: train.sampleShape, numClasses: train.numClasses, seed: 1 });
    await fit(model, train, { epochs: 8, batchSize: 32, learningRate: 3e-3, seed: 1, augment: { mixup: 0.4 } });
    expect(accuracyOf(model, test)).toBeGreaterThan(0.85);
    model.dispose();
  }, 60_000);
});
