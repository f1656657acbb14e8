/**
 * Distillery's wasm training kernels against the cpu backend's reference kernels (max |diff| <= 1e-4),
 * over seeded random shapes, strides, dilations and 'same'/'valid' padding.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backend_util } from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { maxAbsDiff, randomInput, runOn, seededRandom, type ArrayInput } from './kernel-harness.js';

const TOL = 1e-4;
const CASES = 30;

beforeAll(async () => {
  process.env.DISTILLERY_BACKEND = 'wasm';
  expect(await initBackend(() => {})).toBe('wasm');
});

interface ConvCase {
  x: number[];
  filter: number[];
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid';
  dyShape: number[];
}

/** A random conv geometry with a non-empty output; TF requires strides or dilations to be all ones. */
function randomConv(seed: number, depthwise: boolean, allowDilation: boolean): ConvCase {
  const rng = seededRandom(seed);
  for (;;) {
    const n = 1 + rng.int(3);
    const h = 3 + rng.int(10);
    const w = 3 + rng.int(10);
    const inC = 1 + rng.int(5);
    const fh = 1 + rng.int(4);
    const fw = 1 + rng.int(4);
    const last = depthwise ? 1 + rng.int(3) : 1 + rng.int(6);
    const dilate = allowDilation && rng.next() < 0.4;
    const strides: [number, number] = dilate ? [1, 1] : [1 + rng.int(3), 1 + rng.int(3)];
    const dilations: [number, number] = dilate ? [1 + rng.int(3), 1 + rng.int(3)] : [1, 1];
    const pad = rng.next() < 0.5 ? 'same' : 'valid';
    const filter = [fh, fw, inC, last];
    try {
      const info = backend_util.computeConv2DInfo([n, h, w, inC], filter as never, strides, dilations, pad, undefined, depthwise);
      if (info.outHeight < 1 || info.outWidth < 1) continue;
      return { x: [n, h, w, inC], filter, strides, dilations, pad, dyShape: info.outShape };
    } catch {
      continue;
    }
  }
}

/** A filter with (d-1) zeros inserted between taps: a dilated conv equals a plain conv with it. */
function dilateFilter(f: ArrayInput, [dh, dw]: [number, number]): ArrayInput {
  const [fh, fw, ci, co] = f.shape;
  const eh = (fh - 1) * dh + 1;
  const ew = (fw - 1) * dw + 1;
  const values = new Float32Array(eh * ew * ci * co);
  for (let i = 0; i < fh; i++)
    for (let j = 0; j < fw; j++)
      for (let c = 0; c < ci * co; c++) values[((i * dh * ew + j * dw) * ci * co) + c] = f.values[(i * fw + j) * ci * co + c];
  return { values, shape: [eh, ew, ci, co] };
}

/** Picks the taps of an expanded-filter gradient that belong to the dilated filter. */
function undilate(g: Float32Array, shape: number[], expandedShape: number[], [dh, dw]: [number, number]): Float32Array {
  const [fh, fw, ci, co] = shape;
  const ew = expandedShape[1];
  const out = new Float32Array(fh * fw * ci * co);
  for (let i = 0; i < fh; i++)
    for (let j = 0; j < fw; j++)
      for (let c = 0; c < ci * co; c++) out[(i * fw + j) * ci * co + c] = g[((i * dh * ew + j * dw) * ci * co) + c];
  return out;
}

describe('Conv2DBackpropFilter on wasm', () => {
  it(`matches cpu on ${CASES} random geometries, dilated ones via the zero-inserted filter`, async () => {
    for (let s = 0; s < CASES; s++) {
      const c = randomConv(100 + s, false, true);
      const rng = seededRandom(s);
      const x = randomInput(rng, c.x);
      const dy = randomInput(rng, c.dyShape);
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter, dilations: c.dilations };
      const wasm = await runOn('wasm', 'Conv2DBackpropFilter', { x, dy }, attrs);
      const expandedShape = dilateFilter({ values: new Float32Array(c.filter.reduce((a, b) => a * b)), shape: c.filter }, c.dilations).shape;
      const cpu = await runOn('cpu', 'Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: expandedShape, dilations: [1, 1] });
      const reference = undilate(cpu.values, c.filter, expandedShape, c.dilations);
      expect(wasm.shape).toEqual(c.filter);
      expect(maxAbsDiff(wasm.values, reference), `case ${s} ${JSON.stringify(c)}`).toBeLessThanOrEqual(TOL);
    }
  });
});

describe('Conv2DBackpropInput on wasm', () => {
  it(`matches cpu on ${CASES} random geometries, dilated ones via the zero-inserted filter`, async () => {
    for (let s = 0; s < CASES; s++) {
      const c = randomConv(200 + s, false, true);
      const rng = seededRandom(s);
      const filter = randomInput(rng, c.filter);
      const dy = randomInput(rng, c.dyShape);
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x, dilations: c.dilations };
      const wasm = await runOn('wasm', 'Conv2DBackpropInput', { dy, filter }, attrs);
      const cpu = await runOn('cpu', 'Conv2DBackpropInput', { dy, filter: dilateFilter(filter, c.dilations) }, { ...attrs, dilations: [1, 1] });
      expect(wasm.shape).toEqual(c.x);
      expect(maxAbsDiff(wasm.values, cpu.values), `case ${s} ${JSON.stringify(c)}`).toBeLessThanOrEqual(TOL);
    }
  });
});

describe('depthwise gradients on wasm', () => {
  // The cpu depthwise gradient kernels ignore dilations in their loops, so dilated cases are checked, like
  // the dense convs above, against the cpu kernel run on the zero-inserted filter.
  it(`DepthwiseConv2dNativeBackpropFilter and ...BackpropInput match cpu on ${CASES} random geometries`, async () => {
    for (let s = 0; s < CASES; s++) {
      const c = randomConv(300 + s, true, true);
      const rng = seededRandom(s);
      const x = randomInput(rng, c.x);
      const filter = randomInput(rng, c.filter);
      const dy = randomInput(rng, c.dyShape);
      const common = { strides: c.strides, pad: c.pad, dilations: c.dilations };
      const expanded = dilateFilter(filter, c.dilations);
      const cpuCommon = { ...common, dilations: [1, 1] };
      const dwWasm = await runOn('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...common, filterShape: c.filter });
      const dwCpu = await runOn('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...cpuCommon, filterShape: expanded.shape });
      const dwReference = undilate(dwCpu.values, c.filter, expanded.shape, c.dilations);
      expect(maxAbsDiff(dwWasm.values, dwReference), `filter case ${s} ${JSON.stringify(c)}`).toBeLessThanOrEqual(TOL);
      const dxWasm = await runOn('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...common, inputShape: c.x });
      const dxCpu = await runOn('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy, filter: expanded }, { ...cpuCommon, inputShape: c.x });
      expect(maxAbsDiff(dxWasm.values, dxCpu.values), `input case ${s} ${JSON.stringify(c)}`).toBeLessThanOrEqual(TOL);
    }
  });
});

describe('MaxPoolGrad on wasm', () => {
  it(`matches cpu on ${CASES} random pools`, async () => {
    for (let s = 0; s < CASES; s++) {
      const rng = seededRandom(400 + s);
      const shape = [1 + rng.int(3), 2 + rng.int(9), 2 + rng.int(9), 1 + rng.int(5)];
      const size = 1 + rng.int(3);
      const stride = 1 + rng.int(3);
      const pad = rng.next() < 0.5 ? 'same' : 'valid';
      if (pad === 'valid' && (shape[1] < size || shape[2] < size)) continue;
      const input = randomInput(rng, shape);
      const poolAttrs = { filterSize: size, strides: stride, pad };
      const output = await runOn('cpu', 'MaxPool', { x: input }, poolAttrs);
      const dy = randomInput(rng, output.shape);
      const inputs = { dy, input, output: { values: output.values, shape: output.shape } };
      const wasm = await runOn('wasm', 'MaxPoolGrad', inputs, poolAttrs);
      const cpu = await runOn('cpu', 'MaxPoolGrad', inputs, poolAttrs);
      expect(maxAbsDiff(wasm.values, cpu.values), `case ${s} ${JSON.stringify({ shape, size, stride, pad })}`).toBeLessThanOrEqual(TOL);
    }
  });
});

describe('BatchMatMul on wasm', () => {
  it('matches cpu for every transpose combination and batch broadcasting', async () => {
    const rng = seededRandom(7);
    for (let s = 0; s < 24; s++) {
      const [m, k, n] = [1 + rng.int(40), 1 + rng.int(40), 1 + rng.int(40)];
      const transposeA = s % 2 === 1;
      const transposeB = s % 4 >= 2;
      const batchA = s % 8 >= 4 ? 3 : 1;
      const a = randomInput(rng, [batchA, ...(transposeA ? [k, m] : [m, k])]);
      const b = randomInput(rng, [3, ...(transposeB ? [n, k] : [k, n])]);
      const attrs = { transposeA, transposeB };
      const wasm = await runOn('wasm', 'BatchMatMul', { a, b }, attrs);
      const cpu = await runOn('cpu', 'BatchMatMul', { a, b }, attrs);
      expect(wasm.shape).toEqual(cpu.shape);
      expect(maxAbsDiff(wasm.values, cpu.values), `case ${s}`).toBeLessThanOrEqual(TOL * k);
    }
  });
});
