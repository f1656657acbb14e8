/**
 * Distillery's wasm training kernels against the cpu backend's reference kernels (max |diff| <= 1e-4),
 * over seeded random shapes, strides, dilations and 'same'/'valid' padding.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { backend_util } from '@tensorflow/tfjs';
import { initBackend, useBackend } from '../../shared/compute/backend.js';
import { stockWasmKernel } from '../../shared/compute/wasm-kernels/register.js';
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

describe('Conv2DBackpropFilter on wasm, batch of one', () => {
  // Stride 1 with several input channels runs as a forward Conv2D on transposed copies of x and dy, which
  // the kernel frees; with one sample the transpose of dy is a no-op permutation (the backend copies).
  it('matches cpu and leaves its inputs intact', async () => {
    const rng = seededRandom(600);
    const x = randomInput(rng, [1, 5, 6, 3]);
    const dy = randomInput(rng, [1, 5, 6, 4]);
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4], dilations: [1, 1] };
    const cpu = await runOn('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
    expect(await useBackend('wasm')).toBe(true);
    const xt = tf.tensor(x.values, x.shape);
    const dyt = tf.tensor(dy.values, dy.shape);
    const dW = tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt }, attrs as never) as tf.Tensor;
    expect(maxAbsDiff(dW.dataSync() as Float32Array, cpu.values)).toBeLessThanOrEqual(TOL);
    expect(dyt.dataSync()).toEqual(dy.values);
    expect(xt.dataSync()).toEqual(x.values);
    tf.dispose([xt, dyt, dW]);
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

describe('Conv2DBackpropInput on wasm with explicit padding', () => {
  // Stride 1 goes through the backend's forward Conv2D with the turned filter; a padding wider than the
  // filter would need negative padding there, so those cases must fall back to dy · W^T and col2im.
  const cases: Array<{ pad: number[][]; filter: number[]; dilations: [number, number] }> = [
    { pad: [[0, 0], [1, 1], [0, 2], [0, 0]], filter: [3, 3, 2, 4], dilations: [1, 1] },
    { pad: [[0, 0], [0, 1], [2, 0], [0, 0]], filter: [2, 3, 3, 2], dilations: [1, 1] },
    { pad: [[0, 0], [4, 0], [1, 5], [0, 0]], filter: [3, 2, 2, 3], dilations: [1, 1] },
    { pad: [[0, 0], [2, 3], [1, 1], [0, 0]], filter: [2, 2, 3, 2], dilations: [2, 2] },
  ];
  it.each(cases.map((c, i) => [i, c] as const))('case %i matches cpu', async (i, c) => {
    const rng = seededRandom(500 + i);
    const x = [2, 6, 7, c.filter[2]];
    const info = backend_util.computeConv2DInfo(x as never, c.filter as never, [1, 1], c.dilations, c.pad as never);
    const filter = randomInput(rng, c.filter);
    const dy = randomInput(rng, info.outShape);
    const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', inputShape: x, dilations: c.dilations };
    const wasm = await runOn('wasm', 'Conv2DBackpropInput', { dy, filter }, attrs);
    const cpu = await runOn('cpu', 'Conv2DBackpropInput', { dy, filter: dilateFilter(filter, c.dilations) }, { ...attrs, dilations: [1, 1] });
    expect(wasm.shape).toEqual(x);
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(TOL);
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

/** MaxPoolGrad of `input`'s pool (taken on cpu) under a random dy, on wasm and on cpu. */
async function maxPoolGradOnBoth(rng: ReturnType<typeof seededRandom>, input: ArrayInput, poolAttrs: Record<string, unknown>) {
  const output = await runOn('cpu', 'MaxPool', { x: input }, poolAttrs);
  const dy = randomInput(rng, output.shape);
  const inputs = { dy, input, output: { values: output.values, shape: output.shape } };
  return { wasm: await runOn('wasm', 'MaxPoolGrad', inputs, poolAttrs), cpu: await runOn('cpu', 'MaxPoolGrad', inputs, poolAttrs) };
}

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
      const { wasm, cpu } = await maxPoolGradOnBoth(rng, input, poolAttrs);
      expect(maxAbsDiff(wasm.values, cpu.values), `case ${s} ${JSON.stringify({ shape, size, stride, pad })}`).toBeLessThanOrEqual(TOL);
    }
  });
});

describe('MaxPoolGrad on wasm: ties and NaN', () => {
  // Integer inputs make most windows hold their maximum twice or more: the gradient must go to the first
  // one in row-major order, as on cpu. A NaN in a window exercises the fallback rule.
  it('routes to the first maximum of each window, as cpu does', async () => {
    const rng = seededRandom(450);
    for (const [size, stride, pad] of [[2, 2, 'valid'], [2, 2, 'same'], [3, 1, 'same'], [3, 2, 'same']] as const) {
      const shape = [2, 7, 7, 3];
      const input = randomInput(rng, shape);
      for (let i = 0; i < input.values.length; i++) input.values[i] = Math.floor(Math.abs(input.values[i]) * 2);
      input.values[5] = NaN;
      const poolAttrs = { filterSize: size, strides: stride, pad };
      const { wasm, cpu } = await maxPoolGradOnBoth(rng, input, poolAttrs);
      expect(maxAbsDiff(wasm.values, cpu.values), JSON.stringify({ size, stride, pad })).toBeLessThanOrEqual(TOL);
    }
  });

  it("leaves a 'same' 2x2 pool's padded column alone: the maximum below, not the next row's equal first pixel", async () => {
    // Rows [0 5 0] and [1 6 1]: the last window holds 0 and 1 (column 2) and padding; its maximum 1 is the
    // bottom pixel of column 2, and the first pixel of row 1 is also 1.
    const input = { values: Float32Array.from([0, 5, 0, 1, 6, 1]), shape: [1, 2, 3, 1] };
    const { wasm, cpu } = await maxPoolGradOnBoth(seededRandom(451), input, { filterSize: 2, strides: 2, pad: 'same' });
    expect(Array.from(cpu.values).map((v) => v !== 0)).toEqual([false, false, false, false, true, true]);
    expect(wasm.values).toEqual(cpu.values);
  });
});

describe('Tile on wasm', () => {
  it('matches cpu for float32, int32 and bool tensors of rank 0 to 5, including empty ones', async () => {
    const rng = seededRandom(800);
    const shapes: number[][] = [[], [1], [5], [3, 1], [1, 1, 1, 4], [2, 3, 1, 2], [2, 0, 3], [1, 2, 1, 3, 2]];
    for (let s = 0; s < 40; s++) {
      const shape = shapes[s % shapes.length];
      const reps = shape.map(() => 1 + rng.int(4));
      const dtype = (['float32', 'int32', 'bool'] as const)[s % 3];
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: size }, () => (dtype === 'float32' ? rng.normal() : rng.int(dtype === 'bool' ? 2 : 100)));
      const results: Array<{ values: ArrayLike<number>; shape: number[] }> = [];
      for (const backend of ['wasm', 'cpu'] as const) {
        expect(await useBackend(backend)).toBe(true);
        const x = tf.tensor(values, shape, dtype);
        const y = tf.tile(x, reps);
        results.push({ values: Array.from(y.dataSync() as ArrayLike<number>), shape: y.shape });
        tf.dispose([x, y]);
      }
      expect(results[0], `case ${s} ${dtype} ${JSON.stringify({ shape, reps })}`).toEqual(results[1]);
    }
  });
});

describe('Slice on wasm', () => {
  it('matches cpu for strided and contiguous slices of rank 1 to 6, sizes of -1 and empty slices', async () => {
    const rng = seededRandom(900);
    for (let s = 0; s < 60; s++) {
      const rank = 1 + (s % 6);
      const shape = Array.from({ length: rank }, () => 1 + rng.int(5));
      const begin = shape.map((d) => rng.int(d));
      const size = shape.map((d, i) => (rng.next() < 0.2 ? -1 : rng.int(d - begin[i] + 1)));
      if (s % 7 === 0) size[rank - 1] = -1;
      const dtype = (['float32', 'int32', 'bool'] as const)[s % 3];
      const count = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: count }, () => (dtype === 'float32' ? rng.normal() : rng.int(dtype === 'bool' ? 2 : 100)));
      const results: Array<{ values: number[]; shape: number[] }> = [];
      for (const backend of ['wasm', 'cpu'] as const) {
        expect(await useBackend(backend)).toBe(true);
        const x = tf.tensor(values, shape, dtype);
        const y = tf.slice(x, begin, size);
        results.push({ values: Array.from(y.dataSync() as ArrayLike<number>), shape: y.shape });
        tf.dispose([x, y]);
      }
      expect(results[0], `case ${s} ${dtype} ${JSON.stringify({ shape, begin, size })}`).toEqual(results[1]);
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

describe('Sum and Mean on wasm', () => {
  // The replacements promise the stock kernels' bits, not just their values within a tolerance: the engine's
  // runs reproduce their earlier reports only if every reduction rounds exactly as before.
  it('equal the stock kernels bit for bit over leading, inner and reordered axes, with keepDims and int32', async () => {
    expect(await useBackend('wasm')).toBe(true);
    const rng = seededRandom(1000);
    const cases: Array<{ shape: number[]; axis: number | number[]; dtype?: 'int32' }> = [
      { shape: [128, 28, 28, 32], axis: [0, 1, 2] },
      { shape: [64, 7, 7, 16], axis: [0, 1, 2] },
      { shape: [128, 128], axis: 0 },
      { shape: [1100, 3, 3], axis: 0 },
      { shape: [128, 128], axis: [-2] },
      { shape: [5, 3, 4], axis: [1, 0] },
      { shape: [5, 3, 4], axis: [0, 2] },
      { shape: [5, 3, 4], axis: 2 },
      { shape: [5, 3, 4], axis: [0, 1, 2] },
      { shape: [6, 4], axis: 0, dtype: 'int32' },
    ];
    const backend = tf.backend();
    for (const { shape, axis, dtype } of cases) {
      const size = shape.reduce((a, b) => a * b, 1);
      // Values of mixed magnitudes, so that a different summation order would change the rounding.
      const values = Array.from({ length: size }, () => (dtype ? rng.int(100) : rng.normal() * 10 ** rng.int(4)));
      const x = tf.tensor(values, shape, dtype ?? 'float32');
      for (const kernel of ['Sum', 'Mean'] as const) {
        for (const keepDims of [false, true]) {
          const ours = tf.engine().runKernel(kernel, { x }, { axis, keepDims }) as tf.Tensor;
          const stockOut = stockWasmKernel(kernel).kernelFunc({ inputs: { x }, backend, attrs: { axis, keepDims } }) as tf.TensorInfo;
          const stock = tf.engine().makeTensorFromTensorInfo(stockOut);
          const label = `${kernel} ${JSON.stringify({ shape, axis, keepDims, dtype })}`;
          expect(ours.shape, label).toEqual(stock.shape);
          expect(ours.dtype, label).toBe(stock.dtype);
          expect(Array.from(ours.dataSync()), label).toEqual(Array.from(stock.dataSync()));
          tf.dispose([ours, stock]);
        }
      }
      x.dispose();
    }
  });

  it('reduce an empty axis to 0, Sum and Mean, as cpu does', async () => {
    const x = { values: new Float32Array(0), shape: [0, 3] };
    for (const backend of ['wasm', 'cpu'] as const) {
      expect((await runOn(backend, 'Sum', { x }, { axis: 0, keepDims: false })).values, backend).toEqual(new Float32Array(3));
      expect((await runOn(backend, 'Mean', { x }, { axis: 0, keepDims: true })).values, backend).toEqual(new Float32Array(3));
    }
  });

  it('sum bias gradients as the cpu backend does, within float32 rounding', async () => {
    const rng = seededRandom(1001);
    const x = randomInput(rng, [8, 5, 5, 6]);
    const [wasm, cpu] = [await runOn('wasm', 'Sum', { x }, { axis: [0, 1, 2], keepDims: false }), await runOn('cpu', 'Sum', { x }, { axis: [0, 1, 2], keepDims: false })];
    expect(wasm.shape).toEqual([6]);
    expect(maxAbsDiff(wasm.values, cpu.values)).toBeLessThanOrEqual(TOL * 10);
  });
});
