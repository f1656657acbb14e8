/** Runs a QuantizedModel op by op with the scalar reference kernels: the oracle for the wasm runtime. */
import { paramsAfter, type QuantizedModel } from '../../shared/quantize/model.js';
import type { Shape3 } from '../../shared/quantize/geometry.js';
import { refConvAcc, refDepthwiseAcc, refMaxPool, refRequant } from './reference.js';

function refAverage(x: Int8Array, [h, w, c]: Shape3, pool: [number, number], strides: [number, number]): Int8Array {
  const oh = Math.floor((h - pool[0]) / strides[0]) + 1;
  const ow = Math.floor((w - pool[1]) / strides[1]) + 1;
  const out = new Int8Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let ky = 0; ky < pool[0]; ky++) for (let kx = 0; kx < pool[1]; kx++) sum += x[((oy * strides[0] + ky) * w + ox * strides[1] + kx) * c + ch];
        const mean = sum / (pool[0] * pool[1]);
        out[(oy * ow + ox) * c + ch] = Math.sign(mean) * Math.round(Math.abs(mean)); // half away from zero
      }
    }
  }
  return out;
}

/** int8 output codes, or the last layer's int32 accumulators when it has accumulatorScales. */
export function refRunQuantized(model: QuantizedModel, xq: Int8Array): Int8Array | Int32Array {
  let x = xq;
  for (let i = 0; i < model.ops.length; i++) {
    const op = model.ops[i];
    const zin = paramsAfter(model, i - 1).zeroPoint;
    if (op.kind === 'conv' || op.kind === 'depthwise') {
      const [h, w, cin] = op.geo.inShape;
      const cout = op.geo.outShape[2];
      let acc: Int32Array;
      if (op.kind === 'conv') acc = refConvAcc(x, op.geo, op.weights, op.bias, zin);
      else {
        const m = cout / cin;
        const expanded = Int8Array.from({ length: h * w * cout }, (_, k) => x[Math.floor(k / m)]);
        acc = refDepthwiseAcc(expanded, { ...op.geo, inShape: [h, w, cout] }, op.weights, op.bias, zin);
      }
      if (op.accumulatorScales) return acc;
      x = refRequant(acc, cout, op.multipliers, op.shift, op.output.zeroPoint, op.clamp[0], op.clamp[1]);
    } else if (op.kind === 'maxPool') x = refMaxPool(x, op.inShape, op.pool, op.strides);
    else if (op.kind === 'avgPool') x = refAverage(x, op.inShape, op.pool, op.strides);
    else if (op.kind === 'globalAvgPool') x = refAverage(x, op.inShape, [op.inShape[0], op.inShape[1]], [1, 1]);
    else x = Int8Array.from(x, (v) => op.table[v + 128]);
  }
  return x;
}
