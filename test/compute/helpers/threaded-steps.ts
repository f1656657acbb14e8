/**
 * Child process for wasm-threads.test.ts: starts the backend with DISTILLERY_WASM_THREADS threads (through
 * initBackend's 'auto'), takes three training steps of a small batch-norm CNN, prints one JSON line with the
 * thread count and a hash of the trained weights, and then just returns: the process must exit by itself.
 * BROKEN_TMPDIR, when set, becomes the temp folder once tsx has started (which needs a working one), so that
 * the threaded build cannot write its worker script.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { initBackend } from '../../../shared/compute/backend.js';
import { wasmThreadCount } from '../../../shared/compute/wasm-threads.js';
import { buildModel } from '../../../shared/models/build.js';

async function main(): Promise<void> {
  if (process.env.BROKEN_TMPDIR) process.env.TMPDIR = process.env.BROKEN_TMPDIR;
  const backend = await initBackend(() => {}, { threads: 'auto' });
  const model = buildModel({ kind: 'cnn', conv: [8, 16], dense: [32], batchNorm: true }, { inputShape: [28, 28, 1], numClasses: 10, seed: 3 });
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([32, 28, 28, 1], 0, 1, 'float32', 5);
  const y = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32', 6), 10);
  for (let step = 0; step < 3; step++) {
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
  }
  const hash = createHash('sha256');
  for (const w of model.getWeights()) hash.update(Buffer.from((w.dataSync() as Float32Array).buffer));
  process.stdout.write(JSON.stringify({ backend, threads: await wasmThreadCount(), weights: hash.digest('hex') }) + '\n');
}

await main();
