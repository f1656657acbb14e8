/**
 * Post-training int8 quantization (Jacob et al. 2018, "Quantization and Training of Neural Networks for
 * Efficient Integer-Arithmetic-Only Inference"; Krishnamoorthi 2018 for per-channel weights):
 *  - weights: symmetric, per output channel, int8 in [-127, 127] (zero point 0, so no weight-side
 *    zero-point terms in the inner loop);
 *  - activations: asymmetric int8 from calibrated min/max. After ReLU, and for [0, 1] pixels, tensors are
 *    one-sided: symmetric int8 would leave half the codes unused (7 bits), asymmetric uses all 256. The
 *    input zero point costs nothing at run time: it folds into the bias as -zx * sum(w);
 *  - biases: int32 at scale inputScale * weightScale[c];
 *  - requantization: one int32 multiplier per channel with a shift shared by the layer.
 */
import type * as tf from '@tensorflow/tfjs';
import { activationFn } from './activations.js';
import { calibrate, type Range } from './calibrate.js';
import { QuantizeError } from './errors.js';
import { extractGraph, type FloatGraph, type FloatOp } from './extract.js';
import { convGeometry, sizeOf, type Shape3 } from './geometry.js';
import type { AffineOp, QOp, QParams, QuantizedModel } from './model.js';

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Asymmetric int8 parameters covering [min, max] widened to include 0, so 0.0 (padding, ReLU) is exact. */
export function chooseParams(r: Range): QParams {
  const min = Math.min(0, r.min);
  const max = Math.max(0, r.max);
  const scale = max > min ? (max - min) / 255 : 1;
  return { scale, zeroPoint: clamp(Math.round(-128 - min / scale), -128, 127) };
}

/**
 * Fixed-point form of positive real multipliers: m[c] ~= multipliers[c] * 2^-shift with one shift for the
 * layer, chosen so the largest multiplier uses 31 bits (channels with smaller multipliers keep
 * proportionally fewer, still far more than the 8 output bits need). A shared shift keeps the SIMD
 * requantization to one shift instruction per four channels.
 */
export function quantizeMultipliers(real: ArrayLike<number>, where = 'layer'): { multipliers: Int32Array; shift: number } {
  let max = 0;
  for (let i = 0; i < real.length; i++) {
    if (!(real[i] >= 0) || !Number.isFinite(real[i])) throw new QuantizeError('out-of-range', `${where}: requantization multiplier ${real[i]} is not a finite non-negative number`);
    max = Math.max(max, real[i]);
  }
  // max in [2^(e-1), 2^e) -> max * 2^(31-e) in [2^30, 2^31).
  let shift = max > 0 ? Math.min(62, 31 - (Math.floor(Math.log2(max)) + 1)) : 62;
  const scaled = (s: number) => Int32Array.from(real as ArrayLike<number>, (m) => Math.round(m * 2 ** s));
  // log2 can be off by one ulp near powers of two; rounding can also reach 2^31. Step down until it fits.
  while (shift > 1 && Math.round(max * 2 ** shift) >= 2 ** 31) shift--;
  if (shift < 1) throw new QuantizeError('out-of-range', `${where}: requantization multiplier ${max} is too large (>= 2^30)`);
  return { multipliers: scaled(shift), shift };
}

/** Symmetric per-output-channel int8 weights; `channels` is the size of the last (output) axis. */
export function quantizeWeights(w: Float32Array, channels: number): { q: Int8Array; scales: Float64Array } {
  const scales = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) scales[i % channels] = Math.max(scales[i % channels], Math.abs(w[i]));
  for (let c = 0; c < channels; c++) scales[c] = scales[c] > 0 ? scales[c] / 127 : 1;
  const q = Int8Array.from(w, (v, i) => clamp(Math.round(v / scales[i % channels]), -127, 127));
  return { q, scales };
}

// Accumulators stay within int32 when |bias| <= 2^30 and the taps add at most 2 * 128 * 127 each
// (input times weight, plus the folded zero-point term): K < 33,000 taps per output.
const MAX_BIAS = 2 ** 30;
const MAX_TAPS = 33_000;

function quantizeAffine(op: Extract<FloatOp, { kind: 'conv' | 'depthwise' }>, inShape: Shape3, input: QParams, range: Range, last: boolean): AffineOp {
  const [kh, kw, cin, lastDim] = op.kernelShape;
  const depthwise = op.kind === 'depthwise';
  if (cin !== inShape[2]) throw new QuantizeError('unsupported-layer', `layer ${op.name}: kernel expects ${cin} input channels, input has ${inShape[2]}`);
  const cout = depthwise ? cin * lastDim : lastDim;
  const taps = depthwise ? kh * kw : kh * kw * cin;
  if (taps > MAX_TAPS) throw new QuantizeError('out-of-range', `layer ${op.name}: ${taps} inputs per output exceed ${MAX_TAPS}, which could overflow int32 accumulators`);
  const geo = convGeometry(inShape, [kh, kw], op.strides, op.dilation, op.padding, cout);
  const { q, scales } = quantizeWeights(op.kernel, cout);
  const output = chooseParams(op.relu ? { min: 0, max: range.max } : range);
  const bias = new Int32Array(cout);
  const real = new Float64Array(cout);
  for (let c = 0; c < cout; c++) {
    const b = Math.round(op.bias[c] / (input.scale * scales[c]));
    if (Math.abs(b) > MAX_BIAS) throw new QuantizeError('out-of-range', `layer ${op.name}: bias ${op.bias[c]} of channel ${c} is ${b} steps of its accumulator, beyond 2^30`);
    bias[c] = b;
    real[c] = (input.scale * scales[c]) / output.scale;
  }
  const { multipliers, shift } = quantizeMultipliers(real, `layer ${op.name}`);
  const clampRange: [number, number] = op.relu ? [Math.max(-128, output.zeroPoint), 127] : [-128, 127];
  const q8: AffineOp = { kind: op.kind, geo, weights: q, bias, multipliers, shift, output, clamp: clampRange };
  if (last && !op.relu) q8.accumulatorScales = Float32Array.from(scales, (s) => input.scale * s);
  return q8;
}

/** A 256-entry table mapping every int8 input code to the int8 code of f(input). */
export function lookupTable(f: (x: number) => number, input: QParams, output: QParams): Int8Array {
  return Int8Array.from({ length: 256 }, (_, i) => clamp(Math.round(f((i - 128 - input.zeroPoint) * input.scale) / output.scale) + output.zeroPoint, -128, 127));
}

/** Quantizes a folded float graph with the given calibration ranges. */
export function quantizeGraph(graph: FloatGraph, ranges: { input: Range; outputs: Range[] }): QuantizedModel {
  const input = chooseParams(ranges.input);
  const ops: QOp[] = [];
  let shape = graph.inputShape;
  let params = input;
  graph.ops.forEach((op, i) => {
    const inShape = shape;
    if (op.kind === 'conv' || op.kind === 'depthwise') {
      const q = quantizeAffine(op, inShape, params, ranges.outputs[i], graph.ops.slice(i + 1).every((o) => o.kind === 'reshape'));
      ops.push(q);
      shape = q.geo.outShape;
      params = q.output;
    } else if (op.kind === 'maxPool' || op.kind === 'avgPool') {
      const outShape: Shape3 = [Math.floor((inShape[0] - op.pool[0]) / op.strides[0]) + 1, Math.floor((inShape[1] - op.pool[1]) / op.strides[1]) + 1, inShape[2]];
      if (outShape[0] < 1 || outShape[1] < 1) throw new QuantizeError('unsupported-layer', `layer ${op.name}: pool [${op.pool}] does not fit input [${inShape}]`);
      ops.push({ kind: op.kind, inShape, outShape, pool: op.pool, strides: op.strides });
      shape = outShape;
    } else if (op.kind === 'globalAvgPool') {
      shape = [1, 1, inShape[2]];
      ops.push({ kind: 'globalAvgPool', inShape, outShape: shape });
    } else if (op.kind === 'activation') {
      const output = chooseParams(ranges.outputs[i]);
      ops.push({ kind: 'lut', inShape, outShape: inShape, table: lookupTable(activationFn(op.fn, op.alpha), params, output), output });
      params = output;
    } else {
      if (sizeOf(op.shape) !== sizeOf(inShape)) throw new QuantizeError('unsupported-layer', `layer ${op.name}: reshape from [${inShape}] to [${op.shape}] changes the element count`);
      shape = op.shape;
    }
  });
  return { inputShape: graph.inputShape, input, outputShape: graph.outputShape, ops };
}

/**
 * Quantizes a trained chain model to int8, calibrating activation ranges on `calibration`: local samples,
 * flattened row-major, e.g. a Dataset's x (a few hundred to a thousand are plenty). TF.js must be
 * initialised (initBackend) since calibration runs the float graph.
 */
export function quantizeModel(model: tf.LayersModel, calibration: Float32Array): QuantizedModel {
  const graph = extractGraph(model);
  return quantizeGraph(graph, calibrate(graph, calibration));
}
