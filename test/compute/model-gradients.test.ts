/**
 * End to end: the gradients of a whole model (conv, depthwise conv, conv2dTranspose, pooling, dense) on
 * wasm match the cpu backend, so layers built from specs train the same on both; so do the gradients the
 * distillation engine takes (a batch-norm teacher's input gradient and training step, and the image
 * generator's step with its coordinator-side terms), whose kernels (Tile, strided Slice, stride-2
 * transposed convs) the mixed model does not reach.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, useBackend, type BackendName } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
import { buildGenerator } from '../../coordinator/engine/generator.js';
import { l1Disagreement, modeSeeking, totalVariation } from '../../shared/distill/losses.js';
import { maxAbsDiff, randomInput, seededRandom } from './kernel-harness.js';

const SPEC = {
  kind: 'layers',
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: 3, activation: 'relu' },
    { type: 'depthwiseConv2d', kernelSize: 3, depthMultiplier: 2, strides: 2, activation: 'tanh' },
    { type: 'conv2dTranspose', filters: 4, kernelSize: 3, strides: 2, activation: 'leakyRelu' },
    { type: 'maxPool', poolSize: 2 },
    { type: 'conv2d', filters: 5, kernelSize: 2, padding: 'valid', dilation: 1 },
    { type: 'flatten' },
    { type: 'dense', units: 16, activation: 'relu' },
  ],
};

async function gradientsOn(backend: BackendName, x: Float32Array, labels: number[]): Promise<Float32Array[]> {
  await useBackend(backend);
  const model = buildModel(SPEC, { inputShape: [12, 12, 2], numClasses: 3, seed: 5 });
  const xs = tf.tensor(x, [4, 12, 12, 2]);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
  const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs) as tf.Tensor) as tf.Scalar);
  const out = Object.keys(grads).sort().map((k) => grads[k].dataSync() as Float32Array);
  tf.dispose([xs, ys, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe('model gradients on wasm', () => {
  beforeAll(async () => {
    process.env.DISTILLERY_BACKEND = 'wasm';
    await initBackend(() => {});
  });

  it('match the cpu backend for every weight of a mixed conv model', async () => {
    const x = randomInput(seededRandom(3), [4, 12, 12, 2]).values;
    const labels = [0, 2, 1, 2];
    const wasm = await gradientsOn('wasm', x, labels);
    const cpu = await gradientsOn('cpu', x, labels);
    expect(wasm.length).toBe(cpu.length);
    expect(wasm.length).toBeGreaterThanOrEqual(10);
    for (let i = 0; i < wasm.length; i++) {
      expect(maxAbsDiff(wasm[i], cpu[i]), `gradient ${i}`).toBeLessThanOrEqual(1e-4);
      expect(wasm[i].some((v) => v !== 0), `gradient ${i} is all zero`).toBe(true);
    }
  });

  /** Every gradient within 1e-4 of cpu's, relative to the largest entry of the tensor (at least 1). */
  function expectClose(wasm: Float32Array[], cpu: Float32Array[]): void {
    expect(wasm.length).toBe(cpu.length);
    for (let i = 0; i < wasm.length; i++) {
      const scale = Math.max(1, ...Array.from(cpu[i], Math.abs));
      expect(maxAbsDiff(wasm[i], cpu[i]) / scale, `gradient ${i}`).toBeLessThanOrEqual(1e-4);
      expect(wasm[i].some((v) => v !== 0), `gradient ${i} is all zero`).toBe(true);
    }
  }

  const TEACHER = { kind: 'cnn', conv: [4, 8], dense: [8], batchNorm: true };

  async function teacherGradientsOn(backend: BackendName, x: Float32Array, labels: number[]): Promise<Float32Array[]> {
    await useBackend(backend);
    const model = buildModel(TEACHER, { inputShape: [12, 12, 1], numClasses: 3, seed: 7 });
    const xs = tf.tensor(x, [6, 12, 12, 1]);
    const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
    const inputGradient = tf.grad((input: tf.Tensor) => tf.losses.softmaxCrossEntropy(ys, model.apply(input, { training: false }) as tf.Tensor))(xs);
    const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, weights);
    // In the model's weight order: variable names carry per-process layer counters, so they sort differently.
    const out = [inputGradient, ...weights.map((w) => grads[w.name])].map((t) => t.dataSync() as Float32Array);
    tf.dispose([xs, ys, inputGradient, ...Object.values(grads)]);
    model.dispose();
    return out;
  }

  it('match cpu for a batch-norm teacher: its input gradient (a device query) and its training step', async () => {
    const x = randomInput(seededRandom(11), [6, 12, 12, 1]).values;
    const labels = [0, 1, 2, 2, 1, 0];
    expectClose(await teacherGradientsOn('wasm', x, labels), await teacherGradientsOn('cpu', x, labels));
  });

  async function generatorGradientsOn(backend: BackendName, inputs: { z: Float32Array; g: Float32Array; p: Float32Array }): Promise<Float32Array[]> {
    await useBackend(backend);
    const G = buildGenerator({ sampleShape: [8, 8, 1], numClasses: 3, zDim: 6, width: 8, seed: 2 });
    const S = buildModel({ kind: 'cnn', conv: [4], dense: [8] }, { inputShape: [8, 8, 1], numClasses: 3, seed: 3 });
    const z = tf.tensor(inputs.z, [6, 6]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
    const deviceGradient = tf.tensor(inputs.g, [6, 8, 8, 1]);
    const teacherProbs = tf.softmax(tf.tensor(inputs.p, [6, 3]));
    // The generator step's objective (coordinator/engine/steps.ts) with every coordinator-side term on.
    const weights = G.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => {
      const x = G.apply([z, y], { training: true }) as tf.Tensor;
      const studentProbs = tf.softmax(S.apply(x, { training: false }) as tf.Tensor);
      return tf.addN([
        tf.sum(tf.mul(x, deviceGradient)),
        tf.mul(-0.5, l1Disagreement(teacherProbs, studentProbs)),
        tf.mul(-5, modeSeeking(x, z)),
        tf.mul(4, totalVariation(x)),
      ]) as tf.Scalar;
    }, weights);
    const out = weights.map((w) => grads[w.name].dataSync() as Float32Array);
    tf.dispose([z, y, deviceGradient, teacherProbs, ...Object.values(grads)]);
    G.dispose();
    S.dispose();
    return out;
  }

  it("match cpu for the image generator's step, through its stride-2 transposed convs and batch norms", async () => {
    const rng = seededRandom(13);
    const inputs = { z: randomInput(rng, [6, 6]).values, g: randomInput(rng, [6, 8, 8, 1]).values, p: randomInput(rng, [6, 3]).values };
    const wasm = await generatorGradientsOn('wasm', inputs);
    expect(wasm.length).toBeGreaterThanOrEqual(10);
    expectClose(wasm, await generatorGradientsOn('cpu', inputs));
  });
});

