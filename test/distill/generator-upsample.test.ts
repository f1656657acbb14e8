/** Coarse image generators (distill.generatorUpsample): drawn at half resolution, enlarged bilinearly. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildGenerator, generatorFor } from '../../coordinator/engine/generator.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';

const OPTIONS = { sampleShape: [8, 8, 1], numClasses: 10, zDim: 16, seed: 3 };
const inputs = (n: number) => [tf.randomNormal([n, OPTIONS.zDim], 0, 1, 'float32', 9), tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => i % 10), 'int32'), 10).toFloat()];

describe('generator upsampling', () => {
  it('with upsample 2, draws a 4 × 4 map with one transposed convolution and enlarges it bilinearly to 8 × 8', () => {
    const G = buildGenerator({ ...OPTIONS, upsample: 2 });
    const classes = G.layers.map((l) => l.getClassName());
    expect(classes.filter((c) => c === 'Conv2DTranspose')).toHaveLength(1);
    expect(classes.at(-1)).toBe('UpSampling2D');
    const [z, y] = inputs(6);
    const out = G.predict([z, y]) as tf.Tensor;
    expect(out.shape).toEqual([6, 8, 8, 1]);
    // The layer before the upsampling gives the coarse drawing; the output is exactly its bilinear enlargement.
    const coarseModel = tf.model({ inputs: G.inputs, outputs: G.layers.at(-2)!.output as tf.SymbolicTensor });
    const coarse = coarseModel.predict([z, y]) as tf.Tensor4D;
    expect(coarse.shape).toEqual([6, 4, 4, 1]);
    const expected = tf.image.resizeBilinear(coarse, [8, 8]).dataSync();
    out.dataSync().forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    // Still pixels in [0, 1], like the real images the teachers saw.
    expect(Math.min(...out.dataSync())).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out.dataSync())).toBeLessThanOrEqual(1);
  });

  it('passes gradients through the enlargement to every layer that has weights', () => {
    const G = buildGenerator({ ...OPTIONS, upsample: 2 });
    const [z, y] = inputs(4);
    const target = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 5);
    const weights = G.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.sub(G.apply([z, y], { training: true }) as tf.Tensor, target))) as tf.Scalar, weights);
    const kernels = weights.filter((w) => /kernel/.test(w.name));
    expect(kernels).toHaveLength(3);
    for (const w of kernels) expect(tf.sum(tf.abs(grads[w.name])).dataSync()[0]).toBeGreaterThan(0);
  });

  it('is 1 by default (the full-resolution generator, unchanged) and validated, naming the setting', () => {
    const c = parseDistillConfig({ zDim: OPTIONS.zDim });
    expect(c.generatorUpsample).toBe(1);
    const plain = buildGenerator(OPTIONS);
    const fromConfig = generatorFor(c, OPTIONS.sampleShape, OPTIONS.numClasses, OPTIONS.seed);
    expect(fromConfig.layers.map((l) => l.getClassName())).toEqual(plain.layers.map((l) => l.getClassName()));
    expect(fromConfig.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(plain.getWeights().map((w) => Array.from(w.dataSync())));
    expect(parseDistillConfig({ generatorUpsample: 2 }).generatorUpsample).toBe(2);
    for (const bad of [0, 3, 1.5, '2']) expect(() => parseDistillConfig({ generatorUpsample: bad })).toThrow(/distill\.generatorUpsample: must be one of 1, 2/);
    expect(() => buildGenerator({ ...OPTIONS, upsample: 4 })).toThrow(/generator upsample must be one of 1, 2, got 4/);
  });
});
