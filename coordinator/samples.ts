/**
 * The generator's current samples as a PNG (eight per class, one row per class), for the dashboard and
 * for people to see what the fleet's teachers are being asked about. The noise is seeded, so successive
 * rounds show the same z vectors and the picture changes only as the generator learns.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../shared/random.js';
import { writeImageGrid } from '../shared/image/png-grid.js';

/** Writes the grid to `file` atomically and returns the path. */
export function writeSamples(file: string, G: tf.LayersModel, numClasses: number, zDim: number, shape: number[], seed: number): string {
  const perClass = 8;
  const rng = seededRandom(seed + 99);
  const images = tf.tidy(() => {
    const z = tf.tensor2d(Float32Array.from({ length: numClasses * perClass * zDim }, () => rng.normal()), [numClasses * perClass, zDim]);
    const y = tf.oneHot(tf.tensor1d(Int32Array.from({ length: numClasses * perClass }, (_, i) => Math.floor(i / perClass)), 'int32'), numClasses).toFloat();
    return G.apply([z, y], { training: false }) as tf.Tensor;
  });
  writeImageGrid(file, images.dataSync() as Float32Array, shape, numClasses, perClass, shape[0] <= 8 ? 6 : 2);
  images.dispose();
  return file;
}
