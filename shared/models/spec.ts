/**
 * Declarative model specs: JSON a user can write in a config file, validated before any TF.js call so a
 * mistake is reported as "spec.layers[2].filters: must be a positive integer, got -3", not as a shape
 * error deep inside TF.js.
 *
 *   {kind: 'mlp', hidden: [256, 128]}                          dense ReLU stack
 *   {kind: 'cnn', conv: [32, 64], dense: [128]}                3x3 'same' conv + 2x2 max-pool per entry
 *   {kind: 'layers', layers: [{type: 'conv2d', filters: 8}, {type: 'flatten'}, ...]}   anything else
 *
 * Every spec ends in a linear dense layer with one unit per class: models emit logits, which the
 * distillation losses need (softmax at a temperature is applied by the loss, not the model).
 */
import { LAYER_KINDS, validateLayer, type LayerSpec } from './layers.js';
import { SpecError, positiveInt, rate } from './spec-error.js';

export { SpecError } from './spec-error.js';

export interface MlpSpec {
  kind: 'mlp';
  hidden: number[];
  activation?: 'relu' | 'tanh' | 'elu' | 'selu';
  dropout?: number;
  batchNorm?: boolean;
}

export interface CnnSpec {
  kind: 'cnn';
  /** Filters per conv block; each block is a 3x3 'same' conv (+BN) + ReLU + 2x2 max-pool. */
  conv: number[];
  dense: number[];
  kernelSize?: number;
  dropout?: number;
  batchNorm?: boolean;
}

export interface LayersSpec {
  kind: 'layers';
  layers: LayerSpec[];
}

export type ModelSpec = MlpSpec | CnnSpec | LayersSpec;
export const MODEL_KINDS = ['mlp', 'cnn', 'layers'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function widths(v: unknown, path: string, allowEmpty: boolean): number[] {
  if (!Array.isArray(v)) throw new SpecError(path, `must be an array of positive integers, got ${JSON.stringify(v)}`);
  if (!allowEmpty && v.length === 0) throw new SpecError(path, 'must not be empty');
  return v.map((w, i) => positiveInt(w, `${path}[${i}]`));
}

function checkKeys(obj: Record<string, unknown>, allowed: string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new SpecError(`${path}.${key}`, `unknown field; allowed: ${allowed.join(', ')}`);
  }
}

/** Validates untrusted JSON and returns it typed; throws SpecError naming the first bad field. */
export function parseModelSpec(raw: unknown, path = 'spec'): ModelSpec {
  if (!isObject(raw)) throw new SpecError(path, `must be an object like {"kind": "mlp", "hidden": [128]}, got ${JSON.stringify(raw)}`);
  const kind = raw.kind;
  if (kind === 'mlp') {
    checkKeys(raw, ['kind', 'hidden', 'activation', 'dropout', 'batchNorm'], path);
    const activation = raw.activation ?? 'relu';
    if (!['relu', 'tanh', 'elu', 'selu'].includes(activation as string)) {
      throw new SpecError(`${path}.activation`, `unknown activation ${JSON.stringify(activation)}; use relu, tanh, elu or selu`);
    }
    return {
      kind,
      hidden: widths(raw.hidden, `${path}.hidden`, true),
      activation: activation as MlpSpec['activation'],
      dropout: raw.dropout === undefined ? 0 : rate(raw.dropout, `${path}.dropout`),
      batchNorm: raw.batchNorm === undefined ? false : Boolean(raw.batchNorm),
    };
  }
  if (kind === 'cnn') {
    checkKeys(raw, ['kind', 'conv', 'dense', 'kernelSize', 'dropout', 'batchNorm'], path);
    return {
      kind,
      conv: widths(raw.conv, `${path}.conv`, false),
      dense: widths(raw.dense ?? [], `${path}.dense`, true),
      kernelSize: raw.kernelSize === undefined ? 3 : positiveInt(raw.kernelSize, `${path}.kernelSize`),
      dropout: raw.dropout === undefined ? 0 : rate(raw.dropout, `${path}.dropout`),
      batchNorm: raw.batchNorm === undefined ? false : Boolean(raw.batchNorm),
    };
  }
  if (kind === 'layers') {
    checkKeys(raw, ['kind', 'layers'], path);
    if (!Array.isArray(raw.layers) || raw.layers.length === 0) {
      throw new SpecError(`${path}.layers`, `must be a non-empty array of layers (types: ${LAYER_KINDS.join(', ')})`);
    }
    return { kind, layers: raw.layers.map((l, i) => validateLayer(l, `${path}.layers[${i}]`)) };
  }
  throw new SpecError(`${path}.kind`, `unknown model kind ${JSON.stringify(kind)}; use one of ${MODEL_KINDS.join(', ')}`);
}

/** Expands the mlp/cnn shorthands into the explicit layer list (without the final logits layer). */
export function toLayers(spec: ModelSpec): LayerSpec[] {
  if (spec.kind === 'layers') return spec.layers;
  const out: LayerSpec[] = [];
  if (spec.kind === 'mlp') {
    out.push({ type: 'flatten' });
    for (const units of spec.hidden) {
      out.push({ type: 'dense', units, activation: spec.batchNorm ? 'linear' : spec.activation ?? 'relu' });
      if (spec.batchNorm) out.push({ type: 'batchNorm' }, { type: 'activation', activation: spec.activation ?? 'relu' });
      if (spec.dropout) out.push({ type: 'dropout', rate: spec.dropout });
    }
    return out;
  }
  for (const filters of spec.conv) {
    out.push({ type: 'conv2d', filters, kernelSize: spec.kernelSize ?? 3, activation: spec.batchNorm ? 'linear' : 'relu' });
    if (spec.batchNorm) out.push({ type: 'batchNorm' }, { type: 'activation', activation: 'relu' });
    out.push({ type: 'maxPool', poolSize: 2 });
  }
  out.push({ type: 'flatten' });
  for (const units of spec.dense) {
    out.push({ type: 'dense', units, activation: 'relu' });
    if (spec.dropout) out.push({ type: 'dropout', rate: spec.dropout });
  }
  return out;
}
