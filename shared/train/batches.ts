/** Turning Dataset rows into tensors, batch by batch, without materialising the whole set as one tensor. */
import * as tf from '@tensorflow/tfjs';
import { featureCount, type Dataset } from '../data/dataset.js';

/** Copies the given rows of `d` into a [rows, ...sampleShape] tensor. */
export function batchTensor(d: Dataset, indices: ArrayLike<number>, start = 0, end = indices.length): tf.Tensor {
  const f = featureCount(d);
  const n = end - start;
  const x = new Float32Array(n * f);
  for (let i = 0; i < n; i++) {
    const src = indices[start + i];
    x.set(d.x.subarray(src * f, (src + 1) * f), i * f);
  }
  return tf.tensor(x, [n, ...d.sampleShape]);
}

/** Row indices 0..n-1. */
export function allRows(n: number): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}

/** Runs the model over the whole dataset in batches and returns its logits, row-major [n, classes]. */
export function predictLogits(model: tf.LayersModel, d: Dataset, batchSize = 256): Float32Array {
  const n = d.y.length;
  const rows = allRows(n);
  let out: Float32Array | undefined;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const logits = tf.tidy(() => model.predict(batchTensor(d, rows, start, end)) as tf.Tensor);
    const values = logits.dataSync() as Float32Array;
    const classes = logits.shape[1] as number;
    out ??= new Float32Array(n * classes);
    out.set(values, start * classes);
    logits.dispose();
  }
  return out ?? new Float32Array(0);
}
