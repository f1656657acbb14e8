/**
 * Random zoom of synthetic query images: each sample of a query batch is scaled about the image centre by its
 * own factor s, log-uniform in [1 / (1 + zoom), 1 + zoom], with bilinear interpolation and zero (the
 * background of our image data sets) outside the original frame. Applied after the generator and before the
 * batch jitter, so the devices label, and the replay buffer keeps, the zoomed images.
 *
 * Why: the batch jitter (a shift and a flip) was the one image augmentation that moved the Fashion-MNIST
 * plateau (+6 points), by stopping the generator from painting a class as one glyph at one place. A shift keeps
 * the glyph's size; a zoom does not, so a generator that leans on a mark of one size loses the teachers' vote
 * on samples where it is drawn larger or smaller. Random resized crops are the augmentation that mattered most
 * for recognisable inversions in Plug-and-Play Inversion (Ghiasi et al. 2022).
 *
 * The zoom is linear in the pixels: out_i = A_i · x_i · B_iᵀ per sample and channel, with A_i and B_i the
 * row and column interpolation matrices of s_i, so the generator's gradient flows back through it exactly
 * (two batched matrix products, whose gradients every TF.js backend has).
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../../shared/random.js';

/** The largest `zoom` accepted: scales beyond 1/2..2 mostly crop a 28-pixel image away or shrink it to a dot. */
export const MAX_ZOOM = 1;

/** n scale factors, log-uniform in [1 / (1 + zoom), 1 + zoom]; zoom 0 gives all ones. */
export function drawZoomScales(n: number, zoom: number, rng: Random): Float32Array {
  if (!(zoom >= 0 && zoom <= MAX_ZOOM)) throw new Error(`zoom: must be a number in 0..${MAX_ZOOM} (largest relative change of scale), got ${JSON.stringify(zoom)}`);
  const span = Math.log1p(zoom);
  return Float32Array.from({ length: n }, () => Math.exp((2 * rng.next() - 1) * span));
}

/**
 * The size × size matrix M of a 1-D zoom by `scale` about the centre: output index r reads the input at
 * c + (r − c) / scale, c = (size − 1) / 2, interpolated linearly between its two neighbours; neighbours outside
 * 0..size−1 contribute zero. Row-major: M[r · size + i] is input i's weight in output r.
 */
export function zoomMatrix(size: number, scale: number): Float32Array {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`zoom: scale must be a finite number > 0, got ${scale}`);
  const m = new Float32Array(size * size);
  const centre = (size - 1) / 2;
  for (let r = 0; r < size; r++) {
    const source = centre + (r - centre) / scale;
    const below = Math.floor(source);
    const frac = source - below;
    if (below >= 0 && below < size) m[r * size + below] += 1 - frac;
    if (below + 1 >= 0 && below + 1 < size && frac > 0) m[r * size + below + 1] += frac;
  }
  return m;
}

/** Stacks one matrix per sample, each repeated for every channel: [n · channels, size, size]. */
function perSampleMatrices(scales: Float32Array, channels: number, size: number): tf.Tensor3D {
  const stacked = new Float32Array(scales.length * channels * size * size);
  scales.forEach((s, i) => {
    const m = zoomMatrix(size, s);
    for (let k = 0; k < channels; k++) stacked.set(m, (i * channels + k) * size * size);
  });
  return tf.tensor3d(stacked, [scales.length * channels, size, size]);
}

/** Zooms sample i of a batch of images [n, h, w, c] by scales[i]; other ranks (tabular rows) pass through unchanged. */
export function applyZoom(x: tf.Tensor, scales: Float32Array): tf.Tensor {
  if (x.rank !== 4) return x;
  const [n, h, w, c] = x.shape as number[];
  if (scales.length !== n) throw new Error(`zoom: ${scales.length} scales for a batch of ${n}`);
  return tf.tidy(() => {
    // Channels next to the batch, so each (sample, channel) plane is one matrix of a batched product.
    const planes = tf.reshape(c === 1 ? x : tf.transpose(x, [0, 3, 1, 2]), [n * c, h, w]);
    const rows = perSampleMatrices(scales, c, h);
    const cols = perSampleMatrices(scales, c, w);
    const zoomed = tf.matMul(tf.matMul(rows, planes), cols, false, true);
    return c === 1 ? tf.reshape(zoomed, [n, h, w, 1]) : tf.transpose(tf.reshape(zoomed, [n, c, h, w]), [0, 2, 3, 1]);
  });
}
