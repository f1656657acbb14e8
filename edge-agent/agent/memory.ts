/**
 * How many query samples the teacher may process at once within a memory budget. A gradient query keeps
 * every layer's activations for the backward pass and about as much again for their gradients and
 * temporaries, so one sample costs roughly 3 x 4 bytes per activation value in the model, plus its input.
 */
import type * as tf from '@tensorflow/tfjs';

/** float32 activation values one sample produces across all layers (the input included). */
export function activationValuesPerSample(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    const shapes = (Array.isArray(layer.outputShape[0]) ? layer.outputShape : [layer.outputShape]) as (number | null)[][];
    for (const s of shapes) total += s.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  }
  return total;
}

/** Largest chunk (>= 1, <= 4096) whose forward and backward pass fit in `budgetMB`. */
export function queryChunkSize(model: tf.LayersModel, budgetMB: number): number {
  const perSample = 3 * 4 * activationValuesPerSample(model);
  return Math.max(1, Math.min(4096, Math.floor((budgetMB * 2 ** 20) / perSample)));
}
