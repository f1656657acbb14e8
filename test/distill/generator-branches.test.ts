/** Several generators in one model (distill.generators): each sample goes through the branch its noise picks. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BRANCH_SEED_STRIDE, buildGenerator, pickedBranches } from '../../coordinator/engine/generator.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';

const OPTIONS = { sampleShape: [8, 8, 1], numClasses: 10, zDim: 16 };
/** Branch k of a generator built with `seed` starts as a one-branch generator built with this seed. */
const branchSeed = (seed: number, k: number) => seed + BRANCH_SEED_STRIDE * k;

/** Rows of z whose first three entries make sample i pick branch picks[i]. */
function noiseFor(picks: number[]): Float32Array {
  const z = Float32Array.from({ length: picks.length * OPTIONS.zDim }, (_, i) => Math.sin(i * 1.7) * 0.5);
  picks.forEach((k, i) => (z[i * OPTIONS.zDim + k] = 3));
  return z;
}

describe('generator branches', () => {
  it('draw each sample with the branch its noise picks, as that generator alone would', () => {
    const picks = [0, 2, 1, 2, 0, 1];
    const zValues = noiseFor(picks);
    expect(Array.from(pickedBranches(zValues, OPTIONS.zDim, 3))).toEqual(picks);
    const z = tf.tensor2d(zValues, [picks.length, OPTIONS.zDim]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32'), 10).toFloat();
    const multi = buildGenerator({ ...OPTIONS, branches: 3, seed: 5 });
    const out = (multi.predict([z, y]) as tf.Tensor).arraySync() as number[][][][];
    const alone = [0, 1, 2].map((k) => (buildGenerator({ ...OPTIONS, seed: branchSeed(5, k) }).predict([z, y]) as tf.Tensor).arraySync() as number[][][][]);
    picks.forEach((k, i) => {
      const a = out[i].flat(2);
      const b = alone[k][i].flat(2);
      a.forEach((v, j) => expect(v).toBeCloseTo(b[j], 5));
      // And not what another branch draws.
      expect(a.some((v, j) => Math.abs(v - alone[(k + 1) % 3][i].flat(2)[j]) > 1e-3)).toBe(true);
    });
  });

  it('give a branch no gradient from the samples it did not draw', () => {
    const multi = buildGenerator({ ...OPTIONS, branches: 3, seed: 5 });
    const y = tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10).toFloat();
    // The gradient magnitude of every trainable weight when all four samples pick branch k.
    const gradientsWhenAllPick = (k: number) => {
      const z = tf.tensor2d(noiseFor([k, k, k, k]), [4, OPTIONS.zDim]);
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(multi.apply([z, y], { training: true }) as tf.Tensor)) as tf.Scalar, multi.trainableWeights.map((w) => w.read() as tf.Variable));
      return multi.trainableWeights.map((w) => tf.sum(tf.abs(grads[(w.read() as tf.Variable).name])).dataSync()[0]);
    };
    const [a, b, c] = [0, 1, 2].map(gradientsWhenAllPick);
    // Each branch's samples move some weights (its kernels at least), and no weight is moved by two branches.
    for (const g of [a, b, c]) expect(g.filter((v) => v > 1e-3).length).toBeGreaterThanOrEqual(4);
    a.forEach((_, i) => expect([a[i], b[i], c[i]].filter((v) => v !== 0).length).toBeLessThanOrEqual(1));
  });

  it('one branch is the generator as before: same layers and weights', () => {
    const before = buildGenerator({ ...OPTIONS, seed: 3 });
    const one = buildGenerator({ ...OPTIONS, branches: 1, seed: 3 });
    expect(one.layers.map((l) => l.getClassName())).toEqual(before.layers.map((l) => l.getClassName()));
    expect(one.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before.getWeights().map((w) => Array.from(w.dataSync())));
    expect(one.layers.some((l) => l.getClassName() === 'PickBranch')).toBe(false);
    // Pinned, not only compared with the default build (which takes the same path): the DCGAN layout, and its
    // parameters by hand for 8x8: dense 26·128 + 128, BN 4·128, convT 9·32·32 + 32, BN 4·32, convT 9·32·16 + 16,
    // BN 4·16, conv 9·16 + 1, BN 4.
    expect(one.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'InputLayer', 'Concatenate', 'Dense', 'BatchNormalization', 'LeakyReLU', 'Reshape', 'Conv2DTranspose', 'BatchNormalization', 'LeakyReLU', 'Conv2DTranspose', 'BatchNormalization', 'LeakyReLU', 'Conv2D', 'BatchNormalization', 'Activation']);
    expect(one.countParams()).toBe(3456 + 512 + 9248 + 128 + 4624 + 64 + 145 + 4);
  });

  it('are validated, naming the setting', () => {
    expect(parseDistillConfig({}).generators).toBe(1);
    expect(parseDistillConfig({ generators: 4 }).generators).toBe(4);
    for (const bad of [0, 9, 2.5, '3']) expect(() => parseDistillConfig({ generators: bad })).toThrow(/distill\.generators: must be an integer in 1\.\.8/);
    expect(() => parseDistillConfig({ generators: 4, zDim: 2 })).toThrow(/at most zDim \(2\)/);
    expect(() => buildGenerator({ ...OPTIONS, branches: 0 })).toThrow(/generator branches must be an integer/);
  });
});
