/**
 * Post-training int8 quantization of digits-sized models: agreement with the float model, closeness of the
 * logits, and bit-exactness of the wasm runtime against the scalar integer reference.
 *
 * Logit tolerance. Rounding a tensor to 256 levels adds noise about 40 dB below its power (6.02 dB per bit
 * minus the crest factor of a non-uniform spread); a model re-rounds once per layer, and each rounding
 * roughly adds its noise, so a 3-5 layer network lands near 35-40 dB. We require SQNR >= 30 dB (noise
 * power <= 0.1% of the logits' power) and every logit within 5% of the logit range; a wrong zero point,
 * scale or fold fails both by a wide margin.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
import { loadDataset } from '../../shared/data/registry.js';
import type { Dataset } from '../../shared/data/dataset.js';
import { fit } from '../../shared/train/fit.js';
import { predictLogits } from '../../shared/train/batches.js';
import { argmaxRows } from '../../shared/metrics/index.js';
import {
  Int8Model, QuantizeError, chooseParams, extractGraph, quantizeModel, quantizeMultipliers, quantizeValues, runFloatGraph, type QuantizedModel,
} from '../../shared/quantize/index.js';
import { refRunQuantized } from './reference-model.js';

const SPECS: Record<string, unknown> = {
  'cnn+bn': { kind: 'cnn', conv: [8, 16], dense: [32], batchNorm: true },
  'mlp tanh': { kind: 'mlp', hidden: [64, 32], activation: 'tanh' },
  'mixed (depthwise x2, bn, avg/global pool, elu/leaky/sigmoid)': {
    kind: 'layers',
    layers: [
      { type: 'conv2d', filters: 6, activation: 'elu' },
      { type: 'depthwiseConv2d', depthMultiplier: 2, activation: 'relu' },
      { type: 'batchNorm' },
      { type: 'avgPool' },
      { type: 'conv2d', filters: 16, strides: 2, padding: 'valid', activation: 'leakyRelu' },
      { type: 'globalAvgPool' },
      { type: 'dense', units: 16, activation: 'sigmoid' },
      { type: 'dropout', rate: 0.1 },
    ],
  },
};

interface Trained {
  model: tf.LayersModel;
  q: QuantizedModel;
}

let train: Dataset;
let test: Dataset;
const trained = new Map<string, Trained>();

beforeAll(async () => {
  await initBackend(() => {});
  ({ train, test } = loadDataset('digits'));
  for (const [name, spec] of Object.entries(SPECS)) {
    const model = buildModel(spec, { inputShape: [8, 8, 1], numClasses: 10, seed: 3 });
    await fit(model, train, { epochs: 8, batchSize: 32, learningRate: 3e-3, seed: 1 });
    trained.set(name, { model, q: quantizeModel(model, train.x) });
  }
});

describe('quantized inference on digits models', () => {
  for (const name of Object.keys(SPECS)) {
    it(`${name}: argmax agrees >= 98% with the float model and logits are close`, () => {
      const { model, q } = trained.get(name)!;
      const float = predictLogits(model, test);
      const int8 = new Int8Model(q).predict(test.x);
      const f = argmaxRows(float, 10);
      const g = argmaxRows(int8, 10);
      const agreement = f.filter((c, i) => c === g[i]).length / f.length;
      expect(agreement).toBeGreaterThanOrEqual(0.98);
      let signal = 0;
      let noise = 0;
      let worst = 0;
      for (let i = 0; i < float.length; i++) {
        signal += float[i] ** 2;
        noise += (float[i] - int8[i]) ** 2;
        worst = Math.max(worst, Math.abs(float[i] - int8[i]));
      }
      expect(10 * Math.log10(signal / noise)).toBeGreaterThanOrEqual(30);
      expect(worst).toBeLessThanOrEqual(0.05 * (Math.max(...float) - Math.min(...float)));
    });

    it(`${name}: the wasm runtime equals the scalar integer reference bit for bit`, () => {
      const { q } = trained.get(name)!;
      const runtime = new Int8Model(q);
      const xq = new Int8Array(64);
      for (let s = 0; s < 60; s++) {
        quantizeValues(test.x.subarray(s * 64, (s + 1) * 64), q.input, xq);
        expect(runtime.runQuantized(xq), `sample ${s}`).toEqual(refRunQuantized(q, xq));
      }
    });
  }

  it('folds batch norm into the conv before it, and the folded float graph reproduces model.predict', () => {
    const { model } = trained.get('cnn+bn')!;
    const graph = extractGraph(model);
    expect(graph.ops.map((o) => o.kind)).toEqual(['conv', 'maxPool', 'conv', 'maxPool', 'reshape', 'conv', 'conv']);
    const folded = runFloatGraph(graph, test.x);
    const original = predictLogits(model, test);
    for (let i = 0; i < original.length; i++) expect(Math.abs(folded[i] - original[i])).toBeLessThan(1e-3);
  });
});

describe('quantizer arguments', () => {
  it('refuses layers it cannot run in integers, naming the layer', () => {
    const model = buildModel({ kind: 'layers', layers: [{ type: 'conv2dTranspose', filters: 2 }] }, { inputShape: [8, 8, 1], numClasses: 3 });
    expect(() => quantizeModel(model, new Float32Array(64))).toThrow(QuantizeError);
    expect(() => quantizeModel(model, new Float32Array(64))).toThrow(/Conv2DTranspose\) cannot be quantized; supported layers: Conv2D/);
  });

  it('refuses calibration data that is not whole samples', () => {
    const model = buildModel({ kind: 'mlp', hidden: [4] }, { inputShape: [8, 8, 1], numClasses: 3 });
    expect(() => quantizeModel(model, new Float32Array(100))).toThrow(/100 values, not a positive multiple of the 64 features/);
  });

  it('chooses asymmetric params that make 0.0 exact and cover the range', () => {
    expect(chooseParams({ min: 0, max: 1 })).toEqual({ scale: 1 / 255, zeroPoint: -128 });
    const p = chooseParams({ min: -1, max: 3 });
    expect(p.scale).toBeCloseTo(4 / 255, 12);
    expect(p.zeroPoint).toBe(-64); // -128 + 1 / (4 / 255) = -64.25 -> -64
    expect(chooseParams({ min: 2, max: 3 }).zeroPoint).toBe(-128); // widened to include 0
  });

  it('encodes multipliers with 31 bits for the largest and one shared shift', () => {
    const { multipliers, shift } = quantizeMultipliers([0.0123, 0.0061, 0.00001]);
    expect(multipliers[0]).toBeGreaterThanOrEqual(2 ** 30);
    expect(multipliers[0]).toBeLessThan(2 ** 31);
    [0.0123, 0.0061, 0.00001].forEach((m, c) => expect(Math.abs(multipliers[c] / 2 ** shift - m)).toBeLessThanOrEqual(2 ** -(shift + 1)));
    expect(quantizeMultipliers([0.75]).shift).toBe(31); // >= 0.5 takes the scalar requantization path
    expect(() => quantizeMultipliers([Number.NaN])).toThrow(/not a finite non-negative number/);
  });
});
