/**
 * The wasm SIMD int8 kernels against the scalar references, bit for bit, on seeded random shapes that cover
 * odd channel counts, several output tiles, strides, dilation, both paddings and extreme values.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom, type Random } from '../../shared/random.js';
import { convGeometry, type Pair, type Shape3 } from '../../shared/quantize/geometry.js';
import { convAccumulators, depthwiseAccumulators, maxPoolInt8, requantize } from '../../shared/quantize/kernels.js';
import { refConvAcc, refDepthwiseAcc, refMaxPool, refRequant } from './reference.js';

const int8s = (rng: Random, n: number, lo = -128, hi = 127) => Int8Array.from({ length: n }, () => lo + rng.int(hi - lo + 1));
const int32s = (rng: Random, n: number, range: number) => Int32Array.from({ length: n }, () => rng.int(2 * range + 1) - range);

function randomConv(rng: Random) {
  const kernel: Pair = [1 + rng.int(5), 1 + rng.int(5)];
  const strides: Pair = [1 + rng.int(3), 1 + rng.int(3)];
  const dilation: Pair = rng.next() < 0.25 ? [1 + rng.int(2), 1 + rng.int(3)] : [1, 1];
  const padding = rng.next() < 0.5 ? 'same' : 'valid';
  const inShape: Shape3 = [kernel[0] * dilation[0] + rng.int(8), kernel[1] * dilation[1] + rng.int(8), 1 + rng.int(20)];
  return { inShape, kernel, strides, dilation, padding } as const;
}

describe('int8 conv kernel', () => {
  it('matches the reference accumulators exactly on 60 random shapes', () => {
    const rng = seededRandom(11);
    for (let trial = 0; trial < 60; trial++) {
      const r = randomConv(rng);
      const cout = 1 + rng.int(45); // up to 12 groups of 4: several passes
      const geo = convGeometry(r.inShape, r.kernel, r.strides, r.dilation, r.padding, cout);
      const x = int8s(rng, r.inShape[0] * r.inShape[1] * r.inShape[2]);
      const w = int8s(rng, r.kernel[0] * r.kernel[1] * r.inShape[2] * cout, -127, 127);
      const bias = int32s(rng, cout, 1 << 20);
      const zx = rng.int(256) - 128;
      const tileGroups = 1 + (trial % 8); // every generated kernel width, 1..8 groups of 4 channels per pass
      expect(convAccumulators(x, geo, w, bias, zx, { tileGroups }), `trial ${trial}: ${JSON.stringify(geo)}`).toEqual(refConvAcc(x, geo, w, bias, zx));
    }
  });

  it('is exact at the extremes of int8 (all -128 inputs, -127 weights, zero point 127)', () => {
    const geo = convGeometry([9, 9, 64], [3, 3], [1, 1], [1, 1], 'same', 36);
    const x = new Int8Array(9 * 9 * 64).fill(-128);
    const w = new Int8Array(9 * 64 * 36).fill(-127);
    const bias = new Int32Array(36).fill(-(2 ** 30));
    const got = convAccumulators(x, geo, w, bias, 127);
    expect(got).toEqual(refConvAcc(x, geo, w, bias, 127));
    // Interior pixel: 576 taps of (-128 - 127) * -127 on top of the bias.
    expect(got[(4 * 9 + 4) * 36]).toBe(-(2 ** 30) + 576 * 255 * 127);
  });

  it('computes a dense layer as a 1x1 conv over a [1, 1, n] input', () => {
    const rng = seededRandom(5);
    const geo = convGeometry([1, 1, 1567], [1, 1], [1, 1], [1, 1], 'valid', 70);
    const x = int8s(rng, 1567);
    const w = int8s(rng, 1567 * 70, -127, 127);
    const bias = int32s(rng, 70, 1000);
    expect(convAccumulators(x, geo, w, bias, -128)).toEqual(refConvAcc(x, geo, w, bias, -128));
  });
});

describe('int8 depthwise kernel', () => {
  it('matches the reference accumulators exactly on 40 random shapes', () => {
    const rng = seededRandom(12);
    for (let trial = 0; trial < 40; trial++) {
      const r = randomConv(rng);
      const c = r.inShape[2] + rng.int(20);
      const inShape: Shape3 = [r.inShape[0], r.inShape[1], c];
      const geo = convGeometry(inShape, r.kernel, r.strides, r.dilation, r.padding, c);
      const x = int8s(rng, inShape[0] * inShape[1] * c);
      const w = int8s(rng, r.kernel[0] * r.kernel[1] * c, -127, 127);
      const bias = int32s(rng, c, 1 << 20);
      const zx = rng.int(256) - 128;
      expect(depthwiseAccumulators(x, geo, w, bias, zx), `trial ${trial}`).toEqual(refDepthwiseAcc(x, geo, w, bias, zx));
    }
  });
});

describe('requantization', () => {
  it('matches exact integer rounding for shifts 1..62 (scalar and SIMD paths)', () => {
    const rng = seededRandom(13);
    for (let shift = 1; shift <= 62; shift++) {
      const channels = 1 + rng.int(19);
      const acc = int32s(rng, channels * (1 + rng.int(9)), 2 ** 31 - 1);
      acc[0] = -(2 ** 31);
      acc[acc.length - 1] = 2 ** 31 - 1;
      const m = Int32Array.from({ length: channels }, () => 2 ** 30 + rng.int(2 ** 30));
      m[0] = 2 ** 31 - 1;
      const zp = rng.int(256) - 128;
      const [qmin, qmax] = rng.next() < 0.5 ? [-128, 127] : [zp, 127];
      expect(requantize(acc, channels, m, shift, zp, qmin, qmax), `shift ${shift}`).toEqual(refRequant(acc, channels, m, shift, zp, qmin, qmax));
    }
  });

  it('rounds half up: 3 * 2^30 / 2^31 = 1.5 -> 2 and -1.5 -> -1', () => {
    const m = new Int32Array([2 ** 30]);
    expect(Array.from(requantize(new Int32Array([3, -3, 1, -1]), 1, m, 31, 0))).toEqual([2, -1, 1, 0]);
    expect(Array.from(requantize(new Int32Array([3 << 2, -(3 << 2)]), 1, m, 33, 0))).toEqual([2, -1]);
  });
});

describe('int8 max pooling', () => {
  it('matches the reference on random shapes', () => {
    const rng = seededRandom(14);
    for (let trial = 0; trial < 30; trial++) {
      const pool: Pair = [1 + rng.int(3), 1 + rng.int(3)];
      const strides: Pair = [1 + rng.int(3), 1 + rng.int(3)];
      const shape: Shape3 = [pool[0] + rng.int(9), pool[1] + rng.int(9), 1 + rng.int(40)];
      const x = int8s(rng, shape[0] * shape[1] * shape[2]);
      expect(maxPoolInt8(x, shape, pool, strides), `trial ${trial}`).toEqual(refMaxPool(x, shape, pool, strides));
    }
  });
});
