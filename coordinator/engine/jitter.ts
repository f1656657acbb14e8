/**
 * DeepInversion-style jitter of synthetic images: one random circular shift (and optionally a horizontal
 * flip) per query batch, applied after the generator and before the devices see the batch. A feature the
 * generator paints at a fixed place (the mode collapse seen on Fashion-MNIST: the same small glyph in one corner
 * of every class) then moves around, so the teachers' gradients stop rewarding it. Shift and flip are
 * permutations of pixels, so the generator's gradient flows back through them exactly.
 *
 * The same permutation drawn per sample (`jitterEachSample`) can augment replayed batches for the student
 * (`studentJitter`), keeping the stored soft labels. Measured on Fashion-MNIST it hurts badly (78.9% -> 50.9%,
 * docs/fmnist-ablations.md), presumably because a synthetic sample's class evidence sits in a few pixels, and moving
 * them again leaves the label describing another image. It is kept as an ablation, off by default.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../../shared/random.js';

export interface JitterSettings {
  /** Largest shift in pixels along each image axis (0: none). */
  shift: number;
  /** Mirror left-right with probability 1/2. */
  flip: boolean;
}

export interface JitterDraw {
  dy: number;
  dx: number;
  flip: boolean;
}

export function jitterEnabled(j: JitterSettings): boolean {
  return j.shift > 0 || j.flip;
}

/** One batch's shift in [-shift, shift] per axis and its flip. */
export function drawJitter(j: JitterSettings, rng: Random): JitterDraw {
  const dy = j.shift > 0 ? rng.int(2 * j.shift + 1) - j.shift : 0;
  const dx = j.shift > 0 ? rng.int(2 * j.shift + 1) - j.shift : 0;
  return { dy, dx, flip: j.flip && rng.next() < 0.5 };
}

/** Circular shift along `axis` by k: element i moves to (i + k) mod n, as numpy.roll. */
function roll(x: tf.Tensor, k: number, axis: number): tf.Tensor {
  const n = x.shape[axis]!;
  const s = ((k % n) + n) % n;
  if (s === 0) return x;
  const begin = x.shape.map(() => 0);
  const head = x.shape.slice();
  head[axis] = n - s;
  const tailBegin = begin.slice();
  tailBegin[axis] = n - s;
  const tail = x.shape.slice();
  tail[axis] = s;
  return tf.concat([tf.slice(x, tailBegin, tail), tf.slice(x, begin, head)], axis);
}

/** Applies a draw to a batch of images [n, h, w, c]; other ranks (tabular rows) pass through unchanged. */
export function applyJitter(x: tf.Tensor, d: JitterDraw): tf.Tensor {
  if (x.rank !== 4) return x;
  return tf.tidy(() => {
    let out = roll(roll(x, d.dy, 1), d.dx, 2);
    if (d.flip) out = tf.reverse(out, 2);
    return out;
  });
}

/**
 * Plain-array version for replayed batches: sample i of `values` ([n, h, w, c], row-major) gets its own
 * `draw(i)`, with the same meaning as applyJitter (roll by dy, dx, then mirror). No tensors: this runs before
 * every student step.
 */
export function jitterEachSample(values: Float32Array, shape: readonly number[], draw: (i: number) => JitterDraw): Float32Array {
  if (shape.length !== 4) return values;
  const [n, h, w, c] = shape;
  const out = new Float32Array(values.length);
  const size = h * w * c;
  for (let i = 0; i < n; i++) {
    const { dy, dx, flip } = draw(i);
    const base = i * size;
    for (let r = 0; r < h; r++) {
      const srcRow = (((r - dy) % h) + h) % h;
      for (let col = 0; col < w; col++) {
        const unflipped = flip ? w - 1 - col : col;
        const srcCol = (((unflipped - dx) % w) + w) % w;
        const from = base + (srcRow * w + srcCol) * c;
        const to = base + (r * w + col) * c;
        for (let k = 0; k < c; k++) out[to + k] = values[from + k];
      }
    }
  }
  return out;
}
