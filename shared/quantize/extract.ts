/**
 * Reads a chain-shaped tf.LayersModel (what shared/models/build.ts produces, or a converted Keras
 * Sequential model) into a small float graph of integer-friendly ops:
 *  - dense layers become 1x1 convs over [1, 1, n] (NHWC flatten is a no-op on the bytes);
 *  - batch norm is folded into the preceding conv/dense/depthwise when nothing non-linear sits between
 *    (Jacob et al. 2018, sec. 3.2), else it becomes a 1x1 depthwise conv (a per-channel affine map);
 *  - ReLU is fused into the preceding conv as a clamp; other activations become lookup-table ops;
 *  - dropout and input layers vanish; flatten/reshape only change the shape.
 */
import type * as tf from '@tensorflow/tfjs';
import { parseActivation, type ActivationName } from './activations.js';
import { QuantizeError } from './errors.js';
import { toShape3, type Pair, type Shape3 } from './geometry.js';

interface ConvLike {
  name: string;
  /** [kh, kw, cin, cout] for conv, [kh, kw, cin, multiplier] for depthwise, row-major. */
  kernel: Float32Array;
  kernelShape: [number, number, number, number];
  bias: Float32Array;
  strides: Pair;
  dilation: Pair;
  padding: 'same' | 'valid';
  relu: boolean;
}

export type FloatOp =
  | ({ kind: 'conv' } & ConvLike)
  | ({ kind: 'depthwise' } & ConvLike)
  | { kind: 'maxPool'; name: string; pool: Pair; strides: Pair }
  | { kind: 'avgPool'; name: string; pool: Pair; strides: Pair }
  | { kind: 'globalAvgPool'; name: string }
  | { kind: 'activation'; name: string; fn: ActivationName; alpha: number }
  | { kind: 'reshape'; name: string; shape: Shape3 };

/** A model as a chain of float ops, each op's input the previous op's output. */
export interface FloatGraph {
  inputShape: Shape3;
  /** Per-sample output shape of the original model, e.g. [10]. */
  outputShape: number[];
  ops: FloatOp[];
}

const SKIPPED = new Set(['InputLayer', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);
export const SUPPORTED_LAYERS = ['Conv2D', 'DepthwiseConv2D', 'Dense', 'BatchNormalization', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'Activation', 'ReLU', 'LeakyReLU', 'Flatten', 'Reshape', ...SKIPPED];

const pair = (v: unknown, fallback: number): Pair => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : typeof v === 'number' ? [v, v] : [fallback, fallback]);

function weightsOf(layer: tf.layers.Layer): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  // A copy: folding scales these arrays in place, and some backends hand out their own storage.
  layer.getWeights().forEach((t, i) => out.set(layer.weights[i].originalName.split('/').pop()!, Float32Array.from(t.dataSync())));
  return out;
}

function convLike(layer: tf.layers.Layer, cfg: Record<string, unknown>, kernelName: string): ConvLike {
  const w = weightsOf(layer);
  const kernelVar = layer.weights.find((v) => v.originalName.endsWith(`/${kernelName}`));
  const kernel = w.get(kernelName);
  if (!kernel || !kernelVar) throw new QuantizeError('unsupported-layer', `layer ${layer.name}: no ${kernelName} weight`);
  let kernelShape = kernelVar.shape as number[];
  if (kernelShape.length === 2) kernelShape = [1, 1, kernelShape[0], kernelShape[1]];
  const outChannels = kernelName === 'depthwise_kernel' ? kernelShape[2] * kernelShape[3] : kernelShape[3];
  const padding = cfg.padding ?? 'valid';
  if (padding !== 'same' && padding !== 'valid') throw new QuantizeError('unsupported-layer', `layer ${layer.name}: padding ${JSON.stringify(padding)} is not supported; use same or valid`);
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') throw new QuantizeError('unsupported-layer', `layer ${layer.name}: only channelsLast (NHWC) is supported`);
  return {
    name: layer.name, kernel, kernelShape: kernelShape as ConvLike['kernelShape'], bias: w.get('bias') ?? new Float32Array(outChannels),
    strides: pair(cfg.strides, 1), dilation: pair(cfg.dilationRate, 1), padding, relu: false,
  };
}

/** Scales each output channel of a conv/depthwise by `scale` and shifts its bias: BN folding. */
function fold(op: ConvLike, scale: Float32Array, shift: Float32Array): void {
  const channels = scale.length;
  for (let i = 0; i < op.kernel.length; i++) op.kernel[i] *= scale[i % channels];
  for (let c = 0; c < channels; c++) op.bias[c] = op.bias[c] * scale[c] + shift[c];
}

function batchNorm(layer: tf.layers.Layer, cfg: Record<string, unknown>, channels: number): { scale: Float32Array; shift: Float32Array } {
  if (cfg.axis !== undefined && cfg.axis !== -1 && cfg.axis !== (layer.inputSpec?.[0]?.ndim ?? 0) - 1) {
    throw new QuantizeError('unsupported-layer', `layer ${layer.name}: batch norm over axis ${JSON.stringify(cfg.axis)} is not supported; only the channel (last) axis`);
  }
  const w = weightsOf(layer);
  const eps = (cfg.epsilon as number | undefined) ?? 1e-3;
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const gamma = w.get('gamma')?.[c] ?? 1;
    const s = gamma / Math.sqrt((w.get('moving_variance')?.[c] ?? 1) + eps);
    scale[c] = s;
    shift[c] = (w.get('beta')?.[c] ?? 0) - (w.get('moving_mean')?.[c] ?? 0) * s;
  }
  return { scale, shift };
}

/** Layers of a model in order; refuses anything that is not a single chain. */
function chain(model: tf.LayersModel): tf.layers.Layer[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new QuantizeError('unsupported-layer', `model ${model.name} has ${model.inputs.length} inputs and ${model.outputs.length} outputs; only single-input, single-output chains can be quantized`);
  }
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  layers.forEach((layer, i) => {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    const expected = i === 0 ? undefined : layers[i - 1];
    const ok = inbound.length === 1 && (expected ? inbound[0] === expected : inbound[0].getClassName() === 'InputLayer');
    if (!ok) throw new QuantizeError('unsupported-layer', `layer ${layer.name} does not simply follow the layer before it; only chains (no branches or skips) can be quantized`);
  });
  return layers;
}

/** Builds the folded float graph of a chain model. Throws QuantizeError naming an unsupported layer. */
export function extractGraph(model: tf.LayersModel): FloatGraph {
  const inputShape = toShape3(model.inputs[0].shape.slice(1));
  const ops: FloatOp[] = [];
  let shape = inputShape;
  const last = () => ops[ops.length - 1];
  const foldable = () => {
    const op = last();
    return op && (op.kind === 'conv' || op.kind === 'depthwise') && !op.relu ? op : undefined;
  };
  for (const layer of chain(model)) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    const outShape = toShape3((layer.outputShape as (number | null)[]).slice(1));
    const activate = (fn: ActivationName | undefined, alpha = 0.2) => {
      const target = foldable();
      if (fn === 'relu' && target) target.relu = true;
      else if (fn) ops.push({ kind: 'activation', name: layer.name, fn, alpha });
    };
    if (SKIPPED.has(cls)) continue;
    if (cls === 'Conv2D' || cls === 'Dense') {
      ops.push({ kind: 'conv', ...convLike(layer, cfg, 'kernel') });
      activate(parseActivation(cfg.activation, `layer ${layer.name}`));
    } else if (cls === 'DepthwiseConv2D') {
      ops.push({ kind: 'depthwise', ...convLike(layer, cfg, 'depthwise_kernel') });
      activate(parseActivation(cfg.activation, `layer ${layer.name}`));
    } else if (cls === 'BatchNormalization') {
      const { scale, shift } = batchNorm(layer, cfg, shape[2]);
      const target = foldable();
      if (target) fold(target, scale, shift);
      else {
        ops.push({
          kind: 'depthwise', name: layer.name, kernel: scale, kernelShape: [1, 1, shape[2], 1], bias: shift,
          strides: [1, 1], dilation: [1, 1], padding: 'valid', relu: false,
        });
      }
    } else if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
      if (cfg.padding !== undefined && cfg.padding !== 'valid') throw new QuantizeError('unsupported-layer', `layer ${layer.name}: pooling with padding ${JSON.stringify(cfg.padding)} is not supported; use valid`);
      const pool = pair(cfg.poolSize, 2);
      ops.push({ kind: cls === 'MaxPooling2D' ? 'maxPool' : 'avgPool', name: layer.name, pool, strides: cfg.strides ? pair(cfg.strides, 1) : pool });
    } else if (cls === 'GlobalAveragePooling2D') {
      ops.push({ kind: 'globalAvgPool', name: layer.name });
    } else if (cls === 'Activation') {
      activate(parseActivation(cfg.activation, `layer ${layer.name}`));
    } else if (cls === 'ReLU' && (cfg.maxValue === undefined || cfg.maxValue === null)) {
      activate('relu');
    } else if (cls === 'LeakyReLU') {
      activate('leakyRelu', (cfg.alpha as number | undefined) ?? 0.3);
    } else if (cls === 'Flatten' || cls === 'Reshape') {
      ops.push({ kind: 'reshape', name: layer.name, shape: outShape });
    } else {
      throw new QuantizeError('unsupported-layer', `layer ${layer.name} (${cls}) cannot be quantized; supported layers: ${SUPPORTED_LAYERS.join(', ')}`);
    }
    shape = outShape;
  }
  return { inputShape, outputShape: (model.outputs[0].shape.slice(1) as number[]), ops };
}
