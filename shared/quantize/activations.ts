/**
 * Element-wise activations the quantizer understands, each as a float function (to build an int8 lookup
 * table: with 256 possible inputs any element-wise function is exact to one output step, as TFLite does for
 * int8 tanh/logistic) and as a TF.js op (to run the folded float graph during calibration).
 */
import * as tf from '@tensorflow/tfjs';
import { QuantizeError } from './errors.js';

export const ACTIVATION_NAMES = ['relu', 'relu6', 'tanh', 'sigmoid', 'elu', 'selu', 'softplus', 'softsign', 'leakyRelu'] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

// SELU constants from Klambauer et al. 2017, as in TF.js.
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** The float function of an activation; `alpha` is LeakyReLU's negative slope. */
export function activationFn(name: ActivationName, alpha = 0.2): (x: number) => number {
  switch (name) {
    case 'relu': return (x) => Math.max(0, x);
    case 'relu6': return (x) => Math.min(6, Math.max(0, x));
    case 'tanh': return Math.tanh;
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'elu': return (x) => (x > 0 ? x : Math.expm1(x));
    case 'selu': return (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
    case 'softplus': return (x) => (x > 30 ? x : Math.log1p(Math.exp(x)));
    case 'softsign': return (x) => x / (1 + Math.abs(x));
    case 'leakyRelu': return (x) => (x > 0 ? x : alpha * x);
  }
}

/** The same activation as a TF.js op. */
export function activationOp(name: ActivationName, x: tf.Tensor, alpha = 0.2): tf.Tensor {
  switch (name) {
    case 'relu': return tf.relu(x);
    case 'relu6': return tf.relu6(x);
    case 'tanh': return tf.tanh(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'elu': return tf.elu(x);
    case 'selu': return tf.selu(x);
    case 'softplus': return tf.softplus(x);
    case 'softsign': return tf.div(x, tf.add(1, tf.abs(x)));
    case 'leakyRelu': return tf.leakyRelu(x, alpha);
  }
}

/** Parses a TF.js activation identifier ('linear' gives undefined); unknown names throw listing the valid ones. */
export function parseActivation(raw: unknown, where: string): ActivationName | undefined {
  if (raw === undefined || raw === null || raw === 'linear') return undefined;
  if ((ACTIVATION_NAMES as readonly unknown[]).includes(raw)) return raw as ActivationName;
  throw new QuantizeError('unsupported-layer', `${where}: activation ${JSON.stringify(raw)} cannot be quantized; use linear or one of ${ACTIVATION_NAMES.join(', ')}`);
}
