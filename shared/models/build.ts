/** Builds a tf.LayersModel from a validated spec and reports its size. */
import * as tf from '@tensorflow/tfjs';
import { parseModelSpec, toLayers, type ModelSpec } from './spec.js';
import { buildLayer } from './layers.js';
import { SpecError } from './spec-error.js';

export interface BuildOptions {
  inputShape: number[];
  numClasses: number;
  /** Seeds the weight initialisers (and dropout) so two builds with one seed are identical. */
  seed?: number;
  name?: string;
}

export interface ModelSize {
  params: number;
  /** float32 bytes of all weights. */
  bytes: number;
}

/**
 * The model up to its last layer's input: for a logits model, its penultimate features. It shares the
 * model's layers and weights, so it follows the model as it trains.
 */
export function penultimateFeatures(model: tf.LayersModel): tf.LayersModel {
  const last = model.layers[model.layers.length - 1];
  return tf.model({ inputs: model.inputs, outputs: last.input as tf.SymbolicTensor });
}

/**
 * Builds a logits model: the spec's layers, then a linear dense layer with `numClasses` units.
 * Accepts raw JSON (validated here) or an already parsed spec. Shape mismatches TF.js finds while wiring
 * (e.g. too many pooling layers for a small input) are re-thrown as a SpecError naming the spec.
 */
export function buildModel(rawSpec: unknown, options: BuildOptions): tf.LayersModel {
  const spec: ModelSpec = parseModelSpec(rawSpec);
  const seed = options.seed ?? 1;
  const input = tf.input({ shape: options.inputShape });
  let x: tf.SymbolicTensor = input;
  let i = 0;
  try {
    for (const layerSpec of toLayers(spec)) {
      // Flattening an already flat (tabular) input is a no-op TF.js would reject; skip it.
      if (layerSpec.type === 'flatten' && x.shape.length === 2) continue;
      for (const layer of buildLayer(layerSpec, seed + 7919 * ++i)) x = layer.apply(x) as tf.SymbolicTensor;
      if (x.shape.slice(1).some((d) => d !== null && d < 1)) {
        throw new SpecError(`spec layer ${i} (${layerSpec.type})`, `produces an empty output of shape [${x.shape.slice(1).join(', ')}] from input [${options.inputShape.join(', ')}]; use fewer pooling/stride steps or a larger input`);
      }
    }
    if (x.shape.length > 2) x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
    const logits = tf.layers
      .dense({ units: options.numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 7919 * ++i }), name: 'logits' })
      .apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: logits, name: options.name });
  } catch (e) {
    if (e instanceof SpecError) throw e;
    throw new SpecError('spec', `does not fit input shape [${options.inputShape.join(', ')}] at layer ${i}: ${(e as Error).message}`);
  }
}

export function modelSize(model: tf.LayersModel): ModelSize {
  const params = model.countParams();
  return { params, bytes: params * 4 };
}
