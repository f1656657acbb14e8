/**
 * Cutout of synthetic query images (DeVries & Taylor 2017): each sample of a query batch gets one square of
 * `size` pixels set to zero, at its own random place, after the jitter and before the devices see the batch.
 *
 * Why: the generator on Fashion-MNIST paints each class as one small glyph (docs/fmnist-ablations.md), a shortcut
 * the teachers' cross-entropy rewards. The batch jitter moves the glyph around; cutout hides it in some
 * samples, so a generator that leans on one spot loses the teachers' vote there, and the gradient rewards
 * class evidence spread over the whole garment. Zero is the background of the data sets we use, so an occluded
 * patch looks like empty space rather than a new feature. The mask multiplies the images, so the generator's
 * gradient flows through it exactly (zero under the patch).
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../../shared/random.js';

/**
 * A mask [n, h, w, 1] of ones with one zero square per sample: its centre drawn uniformly over the image and
 * the square clipped at the borders (so squares near an edge hide less), as in the Cutout paper.
 */
export function drawCutoutMask(n: number, h: number, w: number, size: number, rng: Random): Float32Array {
  if (!Number.isInteger(size) || size < 0) throw new Error(`cutout: size must be an integer >= 0, got ${size}`);
  const mask = new Float32Array(n * h * w).fill(1);
  if (size === 0) return mask;
  const before = Math.floor(size / 2);
  for (let i = 0; i < n; i++) {
    const cy = rng.int(h);
    const cx = rng.int(w);
    const top = Math.max(0, cy - before);
    const bottom = Math.min(h, cy - before + size);
    const left = Math.max(0, cx - before);
    const right = Math.min(w, cx - before + size);
    for (let r = top; r < bottom; r++) mask.fill(0, (i * h + r) * w + left, (i * h + r) * w + right);
  }
  return mask;
}

/** The images [n, h, w, c] times their mask (broadcast over channels); other ranks pass through unchanged. */
export function applyCutout(x: tf.Tensor, mask: Float32Array): tf.Tensor {
  if (x.rank !== 4) return x;
  const [n, h, w] = x.shape as number[];
  if (mask.length !== n * h * w) throw new Error(`cutout: mask of ${mask.length} values for a batch of ${n} × ${h} × ${w}`);
  return tf.tidy(() => tf.mul(x, tf.tensor4d(mask, [n, h, w, 1])));
}
