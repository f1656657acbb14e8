/**
 * End to end: the gradients of a whole model (conv, depthwise conv, conv2dTranspose, pooling, dense) on
 * wasm match the cpu backend, so layers built from specs train the same on both.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, useBackend, type BackendName } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
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
});
