/** Runs one kernel on a named backend from plain arrays, so wasm and cpu results can be compared. */
import * as tf from '@tensorflow/tfjs';
import { seededRandom, type Random } from '../../shared/random.js';
import { useBackend, type BackendName } from '../../shared/compute/backend.js';

export interface ArrayInput {
  values: Float32Array;
  shape: number[];
}

export function randomInput(rng: Random, shape: number[]): ArrayInput {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = rng.normal();
  return { values, shape };
}

export async function runOn(
  backend: BackendName,
  kernel: string,
  inputs: Record<string, ArrayInput>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; shape: number[] }> {
  if (!(await useBackend(backend))) throw new Error(`backend ${backend} unavailable`);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.values, v.shape);
  const out = tf.engine().runKernel(kernel, tensors as never, attrs as never) as tf.Tensor;
  const result = { values: out.dataSync() as Float32Array, shape: out.shape };
  out.dispose();
  Object.values(tensors).forEach((t) => t.dispose());
  return result;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export { seededRandom };
