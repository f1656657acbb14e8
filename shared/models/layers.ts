/**
 * The layer vocabulary of model specs: one entry per layer type, each with its validator and its TF.js
 * builder, in one explicit registry. Unknown types and fields are rejected with the list of valid ones.
 */
import * as tf from '@tensorflow/tfjs';
import { SpecError, positiveInt, rate } from './spec-error.js';

const ACTIVATIONS = ['linear', 'relu', 'tanh', 'sigmoid', 'elu', 'selu', 'softplus', 'leakyRelu'] as const;
type Activation = (typeof ACTIVATIONS)[number];
type Padding = 'same' | 'valid';

export type LayerSpec =
  | { type: 'dense'; units: number; activation?: Activation }
  | { type: 'conv2d'; filters: number; kernelSize?: number; strides?: number; padding?: Padding; dilation?: number; activation?: Activation }
  | { type: 'depthwiseConv2d'; kernelSize?: number; depthMultiplier?: number; strides?: number; padding?: Padding; activation?: Activation }
  | { type: 'conv2dTranspose'; filters: number; kernelSize?: number; strides?: number; padding?: Padding; activation?: Activation }
  | { type: 'maxPool'; poolSize?: number; strides?: number }
  | { type: 'avgPool'; poolSize?: number; strides?: number }
  | { type: 'globalAvgPool' }
  | { type: 'flatten' }
  | { type: 'dropout'; rate: number }
  | { type: 'batchNorm' }
  | { type: 'activation'; activation: Activation }
  | { type: 'reshape'; targetShape: number[] }
  | { type: 'upSample'; size?: number };

type Fields = Record<string, (v: unknown, path: string) => unknown>;
const optionalInt = (v: unknown, p: string) => (v === undefined ? undefined : positiveInt(v, p));
const activation = (v: unknown, p: string) => {
  if (v === undefined) return undefined;
  if (!(ACTIVATIONS as readonly unknown[]).includes(v)) throw new SpecError(p, `unknown activation ${JSON.stringify(v)}; use one of ${ACTIVATIONS.join(', ')}`);
  return v;
};
const padding = (v: unknown, p: string) => {
  if (v === undefined) return undefined;
  if (v !== 'same' && v !== 'valid') throw new SpecError(p, `must be 'same' or 'valid', got ${JSON.stringify(v)}`);
  return v;
};
const shape = (v: unknown, p: string) => {
  if (!Array.isArray(v) || v.length === 0) throw new SpecError(p, `must be a non-empty array of positive integers, got ${JSON.stringify(v)}`);
  return v.map((d, i) => positiveInt(d, `${p}[${i}]`));
};

interface LayerKind {
  fields: Fields;
  build(spec: never, seed: number): tf.layers.Layer;
}

const init = (seed: number) => tf.initializers.glorotUniform({ seed });
const act = (a: Activation | undefined) => (a === 'leakyRelu' ? 'linear' : a ?? 'linear');

/** Layers whose `activation: 'leakyRelu'` needs a separate LeakyReLU layer (TF.js has no such string). */
function withLeaky(layer: tf.layers.Layer, a: Activation | undefined): tf.layers.Layer | tf.layers.Layer[] {
  return a === 'leakyRelu' ? [layer, tf.layers.leakyReLU({ alpha: 0.2 })] : layer;
}

const KINDS: Record<LayerSpec['type'], LayerKind> = {
  dense: {
    fields: { units: positiveInt, activation },
    build: (s: Extract<LayerSpec, { type: 'dense' }>, seed) =>
      withLeaky(tf.layers.dense({ units: s.units, activation: act(s.activation), kernelInitializer: init(seed) }), s.activation) as tf.layers.Layer,
  },
  conv2d: {
    fields: { filters: positiveInt, kernelSize: optionalInt, strides: optionalInt, padding, dilation: optionalInt, activation },
    build: (s: Extract<LayerSpec, { type: 'conv2d' }>, seed) =>
      withLeaky(
        tf.layers.conv2d({
          filters: s.filters, kernelSize: s.kernelSize ?? 3, strides: s.strides ?? 1, padding: s.padding ?? 'same',
          dilationRate: s.dilation ?? 1, activation: act(s.activation), kernelInitializer: init(seed),
        }),
        s.activation,
      ) as tf.layers.Layer,
  },
  depthwiseConv2d: {
    fields: { kernelSize: optionalInt, depthMultiplier: optionalInt, strides: optionalInt, padding, activation },
    build: (s: Extract<LayerSpec, { type: 'depthwiseConv2d' }>, seed) =>
      withLeaky(
        tf.layers.depthwiseConv2d({
          kernelSize: s.kernelSize ?? 3, depthMultiplier: s.depthMultiplier ?? 1, strides: s.strides ?? 1,
          padding: s.padding ?? 'same', activation: act(s.activation), depthwiseInitializer: init(seed),
        }),
        s.activation,
      ) as tf.layers.Layer,
  },
  conv2dTranspose: {
    fields: { filters: positiveInt, kernelSize: optionalInt, strides: optionalInt, padding, activation },
    build: (s: Extract<LayerSpec, { type: 'conv2dTranspose' }>, seed) =>
      withLeaky(
        tf.layers.conv2dTranspose({
          filters: s.filters, kernelSize: s.kernelSize ?? 3, strides: s.strides ?? 1, padding: s.padding ?? 'same',
          activation: act(s.activation), kernelInitializer: init(seed),
        }),
        s.activation,
      ) as tf.layers.Layer,
  },
  maxPool: {
    fields: { poolSize: optionalInt, strides: optionalInt },
    build: (s: Extract<LayerSpec, { type: 'maxPool' }>) => tf.layers.maxPooling2d({ poolSize: s.poolSize ?? 2, strides: s.strides }),
  },
  avgPool: {
    fields: { poolSize: optionalInt, strides: optionalInt },
    build: (s: Extract<LayerSpec, { type: 'avgPool' }>) => tf.layers.averagePooling2d({ poolSize: s.poolSize ?? 2, strides: s.strides }),
  },
  globalAvgPool: { fields: {}, build: () => tf.layers.globalAveragePooling2d({}) },
  flatten: { fields: {}, build: () => tf.layers.flatten() },
  dropout: {
    fields: { rate },
    build: (s: Extract<LayerSpec, { type: 'dropout' }>, seed) => tf.layers.dropout({ rate: s.rate, seed }),
  },
  batchNorm: { fields: {}, build: () => tf.layers.batchNormalization() },
  activation: {
    fields: { activation: (v, p) => activation(v ?? null, p) },
    build: (s: Extract<LayerSpec, { type: 'activation' }>) =>
      s.activation === 'leakyRelu' ? tf.layers.leakyReLU({ alpha: 0.2 }) : tf.layers.activation({ activation: s.activation }),
  },
  reshape: {
    fields: { targetShape: shape },
    build: (s: Extract<LayerSpec, { type: 'reshape' }>) => tf.layers.reshape({ targetShape: s.targetShape }),
  },
  upSample: {
    fields: { size: optionalInt },
    build: (s: Extract<LayerSpec, { type: 'upSample' }>) => tf.layers.upSampling2d({ size: [s.size ?? 2, s.size ?? 2] }),
  },
};

export const LAYER_KINDS = Object.keys(KINDS) as LayerSpec['type'][];

/** Validates one layer entry of a spec. */
export function validateLayer(raw: unknown, path: string): LayerSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SpecError(path, `must be an object with a "type", got ${JSON.stringify(raw)}`);
  const obj = raw as Record<string, unknown>;
  const kind = KINDS[obj.type as LayerSpec['type']];
  if (!kind || !Object.hasOwn(KINDS, obj.type as string)) {
    throw new SpecError(`${path}.type`, `unknown layer kind ${JSON.stringify(obj.type)}; use one of ${LAYER_KINDS.join(', ')}`);
  }
  const out: Record<string, unknown> = { type: obj.type };
  for (const key of Object.keys(obj)) {
    if (key !== 'type' && !(key in kind.fields)) {
      throw new SpecError(`${path}.${key}`, `unknown field for a ${String(obj.type)} layer; allowed: ${Object.keys(kind.fields).join(', ') || '(none)'}`);
    }
  }
  for (const [key, check] of Object.entries(kind.fields)) {
    const value = check(obj[key], `${path}.${key}`);
    if (value !== undefined) out[key] = value;
  }
  return out as LayerSpec;
}

/** Builds the TF.js layers for one spec entry (a leakyRelu activation adds a second layer). */
export function buildLayer(spec: LayerSpec, seed: number): tf.layers.Layer[] {
  const built = KINDS[spec.type].build(spec as never, seed) as tf.layers.Layer | tf.layers.Layer[];
  return Array.isArray(built) ? built : [built];
}
