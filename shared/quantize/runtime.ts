/**
 * Runs a QuantizedModel with integer arithmetic only: int8 activations and weights in one wasm memory,
 * int32 accumulation and fixed-point requantization in the SIMD kernels, and JS integer loops for the rare
 * ops (average pooling, lookup tables, depthwise channel expansion). Floats appear only at the edges:
 * quantizing the input and dequantizing the output.
 *
 * Everything is planned once at construction (packed weights, buffers, kernel arguments), so a
 * prediction is a fixed list of kernel calls with no allocation.
 */
import { sizeOf, type Shape3 } from './geometry.js';
import {
  KernelMemory, Layout, convAcc, depthwiseAcc, padInput, placePlan, planConv, planDepthwise, scratchBytes, writePlan,
} from './kernels.js';
import { opShapes, paramsAfter, type QOp, type QParams, type QuantizedModel } from './model.js';
import { QuantizeError } from './errors.js';

/** q = clamp(round(x / scale) + zeroPoint, -128, 127) for each x, written to out. */
export function quantizeValues(x: ArrayLike<number>, p: QParams, out: Int8Array, at = 0): void {
  for (let i = 0; i < x.length; i++) out[at + i] = Math.min(127, Math.max(-128, Math.round(x[i] / p.scale) + p.zeroPoint));
}

/** Integer average of `count` int8 codes, rounded half away from zero (TFLite's reference average pool). */
export function roundedAverage(sum: number, count: number): number {
  const half = count >> 1;
  return sum >= 0 ? Math.floor((sum + half) / count) : -Math.floor((half - sum) / count);
}

function avgPool(mem: KernelMemory, from: number, to: number, op: Extract<QOp, { kind: 'avgPool' | 'globalAvgPool' }>): void {
  const [h, w, c] = op.inShape;
  const [oh, ow] = op.outShape;
  const [ph, pw] = op.kind === 'avgPool' ? op.pool : [h, w];
  const [sh, sw] = op.kind === 'avgPool' ? op.strides : [h, w];
  const m = mem.i8;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let ky = 0; ky < ph; ky++) for (let kx = 0; kx < pw; kx++) sum += m[from + ((oy * sh + ky) * w + ox * sw + kx) * c + ch];
        m[to + (oy * ow + ox) * c + ch] = roundedAverage(sum, ph * pw);
      }
    }
  }
}

/** A compiled int8 model: construct once, call predict many times. Not safe for concurrent use. */
export class Int8Model {
  readonly model: QuantizedModel;
  private readonly mem: KernelMemory;
  private readonly steps: (() => void)[] = [];
  private readonly inPtr: number;
  private readonly inSize: number;
  private readonly outSize: number;
  /** Where the result lands: int8 codes, or the last layer's int32 accumulators (accStride apart). */
  private readonly out: { ptr: number; int32?: { stride: number; channels: number; scales: Float32Array } };

  constructor(model: QuantizedModel) {
    this.model = model;
    const layout = new Layout();
    const writes: ((mem: KernelMemory) => void)[] = [];
    const sizes = { act: sizeOf(model.inputShape), padded: 0, acc: 0, expanded: 0 };
    const makers: ((bufs: Record<'a' | 'b' | 'padded' | 'acc' | 'expanded', number>, from: number, to: number) => () => void)[] = [];
    let int32Out: { stride: number; channels: number; scales: Float32Array } | undefined;

    model.ops.forEach((op, i) => {
      const zin = paramsAfter(model, i - 1).zeroPoint;
      sizes.act = Math.max(sizes.act, sizeOf(opShapes(op).outShape));
      if (op.kind === 'conv' || op.kind === 'depthwise') {
        const [h, w, cin] = op.geo.inShape;
        const cout = op.geo.outShape[2];
        const expand = op.kind === 'depthwise' ? cout / cin : 1;
        const geo = { ...op.geo, inShape: [h, w, cin * expand] as Shape3 };
        const plan = op.kind === 'conv' ? planConv(geo, op.weights, op.bias, zin) : planDepthwise(geo, op.weights, op.bias, zin);
        const at = placePlan(layout, plan);
        const mult = layout.reserve(plan.accStride * 4);
        writes.push((mem) => {
          writePlan(mem, plan, at);
          mem.i32.set(op.multipliers, mult / 4);
        });
        const scratch = scratchBytes(plan);
        sizes.padded = Math.max(sizes.padded, scratch.padded);
        sizes.acc = Math.max(sizes.acc, scratch.acc);
        if (expand > 1) sizes.expanded = Math.max(sizes.expanded, h * w * cout);
        const [oh, ow] = op.geo.outShape;
        const scales = op.accumulatorScales;
        if (scales) int32Out = { stride: plan.accStride, channels: cout, scales };
        makers.push((b, from, to) => () => {
          let src = from;
          if (expand > 1) {
            // Repeat each input channel `multiplier` times so the depthwise kernel sees one weight per channel.
            const m = this.mem.i8;
            for (let p = 0, o = b.expanded; p < h * w * cin; p++) for (let j = 0; j < expand; j++) m[o++] = m[from + p];
            src = b.expanded;
          }
          padInput(this.mem, geo, src, b.padded, zin);
          if ('segs' in plan) convAcc(this.mem, plan, at, b.padded, b.acc);
          else depthwiseAcc(this.mem, plan, at, b.padded, b.acc);
          if (!scales) this.mem.k.requant(b.acc, to, oh * ow, plan.accStride * 4, cout, mult, op.shift, op.output.zeroPoint, op.clamp[0], op.clamp[1]);
        });
      } else if (op.kind === 'maxPool') {
        const [, w, c] = op.inShape;
        const [oh, ow] = op.outShape;
        makers.push((_, from, to) => () => this.mem.k.maxpool(from, to, oh, ow, c, op.pool[0], op.pool[1], op.strides[0] * w * c, op.strides[1] * c, w * c));
      } else if (op.kind === 'avgPool' || op.kind === 'globalAvgPool') {
        makers.push((_, from, to) => () => avgPool(this.mem, from, to, op));
      } else if (op.kind === 'lut') {
        const n = sizeOf(op.inShape);
        const table = op.table;
        makers.push((_, from, to) => () => {
          const m = this.mem.i8;
          for (let k = 0; k < n; k++) m[to + k] = table[m[from + k] + 128];
        });
      } else {
        throw new QuantizeError('bad-input', `Int8Model: unknown op kind ${JSON.stringify((op as { kind: unknown }).kind)}`);
      }
    });

    const bufs = {
      a: layout.reserve(sizes.act),
      b: layout.reserve(sizes.act),
      padded: layout.reserve(sizes.padded),
      acc: layout.reserve(sizes.acc),
      expanded: layout.reserve(sizes.expanded),
    };
    this.mem = new KernelMemory(layout.bytes);
    for (const write of writes) write(this.mem);
    let from = bufs.a;
    for (const make of makers) {
      const to = from === bufs.a ? bufs.b : bufs.a;
      this.steps.push(make(bufs, from, to));
      from = to;
    }
    this.inPtr = bufs.a;
    this.out = { ptr: int32Out ? bufs.acc : from, int32: int32Out };
    this.inSize = sizeOf(model.inputShape);
    this.outSize = model.ops.length ? sizeOf(opShapes(model.ops[model.ops.length - 1]).outShape) : this.inSize;
  }

  /** Bytes of wasm memory this model holds (weights, packed copies and activation buffers). */
  get memoryBytes(): number {
    return this.mem.memory.buffer.byteLength;
  }

  /**
   * Runs one already-quantized sample; returns the int8 output codes, or the int32 accumulators of a
   * linear last layer (see AffineParts.accumulatorScales). For tests and integer-only callers.
   */
  runQuantized(xq: Int8Array): Int8Array | Int32Array {
    if (xq.length !== this.inSize) throw new QuantizeError('bad-input', `runQuantized: got ${xq.length} values, the model takes ${this.inSize} per sample`);
    this.mem.i8.set(xq, this.inPtr);
    for (const step of this.steps) step();
    const { ptr, int32 } = this.out;
    if (!int32) return this.mem.i8.slice(ptr, ptr + this.outSize);
    return Int32Array.from({ length: this.outSize }, (_, k) => this.mem.i32[ptr / 4 + Math.floor(k / int32.channels) * int32.stride + (k % int32.channels)]);
  }

  /**
   * Float in, float out: quantizes each sample of `x` (row-major, a whole number of samples), runs it, and
   * dequantizes the outputs (logits for our models), [samples, ...outputShape] flattened.
   */
  predict(x: Float32Array): Float32Array {
    if (x.length === 0 || x.length % this.inSize !== 0) {
      throw new QuantizeError('bad-input', `predict: ${x.length} values are not a positive whole number of samples of shape [${this.model.inputShape}] (${this.inSize} values each)`);
    }
    const count = x.length / this.inSize;
    const out = new Float32Array(count * this.outSize);
    const { scale, zeroPoint } = paramsAfter(this.model, this.model.ops.length - 1);
    const { ptr, int32 } = this.out;
    const { i8, i32 } = this.mem;
    for (let s = 0; s < count; s++) {
      quantizeValues(x.subarray(s * this.inSize, (s + 1) * this.inSize), this.model.input, i8, this.inPtr);
      for (const step of this.steps) step();
      const o = s * this.outSize;
      if (!int32) for (let k = 0; k < this.outSize; k++) out[o + k] = scale * (i8[ptr + k] - zeroPoint);
      else {
        for (let p = 0, k = 0; k < this.outSize; p++) {
          for (let c = 0; c < int32.channels; c++, k++) out[o + k] = i32[ptr / 4 + p * int32.stride + c] * int32.scales[c];
        }
      }
    }
    return out;
  }
}
