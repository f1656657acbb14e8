/**
 * The int8 model: the data a quantized network is made of, independent of how it is run (runtime.ts) or
 * stored (format.ts). Real values are r = scale * (q - zeroPoint) (Jacob et al. 2018, eq. 1); weights are
 * symmetric per output channel (zero point 0), so only their requantization multipliers are kept.
 */
import type { ConvGeometry, Pair, Shape3 } from './geometry.js';

/** Affine quantization parameters of one int8 tensor. */
export interface QParams {
  scale: number;
  zeroPoint: number;
}

/** What conv and depthwise ops share: int8 weights, int32 bias and the fixed-point requantization. */
export interface AffineParts {
  /** int8 weights in TF.js order: [kh][kw][cin][cout] (conv) or [kh][kw][cin][multiplier] (depthwise). */
  weights: Int8Array;
  /** bias / (inputScale * weightScale[c]), rounded. */
  bias: Int32Array;
  /** Per output channel: inputScale * weightScale[c] / outputScale = multipliers[c] * 2^-shift. */
  multipliers: Int32Array;
  shift: number;
  output: QParams;
  /** Output range in int8; a fused ReLU clamps at the zero point. */
  clamp: Pair;
  /**
   * Only on a linear last op (the logits layer): its int32 accumulators are the model output, dequantized
   * as acc[c] * accumulatorScales[c] (= inputScale * weightScale[c]). Rounding logits to 256 levels would
   * turn near-ties into ties and flip argmaxes for nothing: the output is float anyway.
   */
  accumulatorScales?: Float32Array;
}

/** 'valid' pooling; output scale and zero point are the input's. */
export interface PoolOp<K extends 'maxPool' | 'avgPool'> {
  kind: K;
  inShape: Shape3;
  outShape: Shape3;
  pool: Pair;
  strides: Pair;
}

export type QOp =
  | ({ kind: 'conv'; geo: ConvGeometry } & AffineParts)
  /** geo.inShape has the input's channels; geo.outShape has cin * multiplier. */
  | ({ kind: 'depthwise'; geo: ConvGeometry } & AffineParts)
  | PoolOp<'maxPool'>
  | PoolOp<'avgPool'>
  | { kind: 'globalAvgPool'; inShape: Shape3; outShape: Shape3 }
  /** Element-wise function as a table: out = table[in + 128]. */
  | { kind: 'lut'; inShape: Shape3; outShape: Shape3; table: Int8Array; output: QParams };

/** The ops with weights. */
export type AffineOp = Extract<QOp, { kind: 'conv' | 'depthwise' }>;

export const QOP_KINDS = ['conv', 'depthwise', 'maxPool', 'avgPool', 'globalAvgPool', 'lut'] as const;

/** A quantized chain network: quantize the input, run the ops in order, dequantize the last output. */
export interface QuantizedModel {
  inputShape: Shape3;
  input: QParams;
  /** Per-sample output shape of the float model, e.g. [10]. */
  outputShape: number[];
  ops: QOp[];
}

/** Input and output shape of an op. */
export function opShapes(op: QOp): { inShape: Shape3; outShape: Shape3 } {
  return 'geo' in op ? { inShape: op.geo.inShape, outShape: op.geo.outShape } : { inShape: op.inShape, outShape: op.outShape };
}

/** Quantization parameters of the tensor op `i` produces (i = -1: the model input). Pools keep their input's. */
export function paramsAfter(model: QuantizedModel, i: number): QParams {
  for (let j = i; j >= 0; j--) {
    const op = model.ops[j];
    if ('output' in op) return op.output;
  }
  return model.input;
}
