/**
 * Straightforward scalar references for the int8 kernels: the textbook formulas (Jacob et al. 2018, eq. 7 and
 * sec. 2.2; TFLite's reference_ops), written for clarity, with BigInt where a product exceeds 2^53.
 */
import type { ConvGeometry, Pair, Shape3 } from '../../shared/quantize/geometry.js';

/** acc[oy][ox][c] = bias[c] + sum over in-bounds taps of (x - zx) * w[ky][kx][ci][c]. */
export function refConvAcc(x: Int8Array, g: ConvGeometry, w: Int8Array, bias: Int32Array, zx: number): Int32Array {
  const [h, wd, cin] = g.inShape;
  const [oh, ow, cout] = g.outShape;
  const out = new Int32Array(oh * ow * cout);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let c = 0; c < cout; c++) {
        let acc = bias[c];
        for (let ky = 0; ky < g.kernel[0]; ky++) {
          for (let kx = 0; kx < g.kernel[1]; kx++) {
            const iy = oy * g.strides[0] + ky * g.dilation[0] - g.pads[0];
            const ix = ox * g.strides[1] + kx * g.dilation[1] - g.pads[1];
            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
            for (let ci = 0; ci < cin; ci++) {
              acc += (x[(iy * wd + ix) * cin + ci] - zx) * w[((ky * g.kernel[1] + kx) * cin + ci) * cout + c];
            }
          }
        }
        out[(oy * ow + ox) * cout + c] = acc;
      }
    }
  }
  return out;
}

/** Depthwise accumulators with multiplier 1 over c channels: w is [kh][kw][c]. */
export function refDepthwiseAcc(x: Int8Array, g: ConvGeometry, w: Int8Array, bias: Int32Array, zx: number): Int32Array {
  const [h, wd, c] = g.inShape;
  const [oh, ow] = g.outShape;
  const out = new Int32Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = bias[ch];
        for (let ky = 0; ky < g.kernel[0]; ky++) {
          for (let kx = 0; kx < g.kernel[1]; kx++) {
            const iy = oy * g.strides[0] + ky * g.dilation[0] - g.pads[0];
            const ix = ox * g.strides[1] + kx * g.dilation[1] - g.pads[1];
            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
            acc += (x[(iy * wd + ix) * c + ch] - zx) * w[(ky * g.kernel[1] + kx) * c + ch];
          }
        }
        out[(oy * ow + ox) * c + ch] = acc;
      }
    }
  }
  return out;
}

/** clamp(zp + ((acc * m[c] + 2^(shift-1)) >> shift), qmin, qmax) in exact integer arithmetic. */
export function refRequant(acc: Int32Array, channels: number, m: Int32Array, shift: number, zp: number, qmin: number, qmax: number): Int8Array {
  const out = new Int8Array(acc.length);
  const round = 1n << BigInt(shift - 1);
  for (let i = 0; i < acc.length; i++) {
    const v = Number((BigInt(acc[i]) * BigInt(m[i % channels]) + round) >> BigInt(shift)) + zp;
    out[i] = Math.min(qmax, Math.max(qmin, v));
  }
  return out;
}

/** 'valid' max pooling. */
export function refMaxPool(x: Int8Array, [h, w, c]: Shape3, pool: Pair, strides: Pair): Int8Array {
  const oh = Math.floor((h - pool[0]) / strides[0]) + 1;
  const ow = Math.floor((w - pool[1]) / strides[1]) + 1;
  const out = new Int8Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let ch = 0; ch < c; ch++) {
        let m = -128;
        for (let ky = 0; ky < pool[0]; ky++) {
          for (let kx = 0; kx < pool[1]; kx++) m = Math.max(m, x[((oy * strides[0] + ky) * w + ox * strides[1] + kx) * c + ch]);
        }
        out[(oy * ow + ox) * c + ch] = m;
      }
    }
  }
  return out;
}
