/**
 * Data augmentation for a device's local training (its teacher, or a FedAvg client): per-sample random shifts
 * with zero padding, left-right flips, and additive Gaussian noise.
 *
 * Why it belongs to distillation: the coordinator synthesizes inputs by following the teachers' input
 * gradients. A teacher trained on clean, centred samples rewards small pixel patterns that no garment has
 * (the glyphs in docs/fmnist-ablations.md); one trained on shifted and noisy samples has smoother input gradients
 * (Gaussian augmentation is the randomized-smoothing recipe of Cohen et al. 2019, whose models show the
 * perceptually aligned gradients of Kaur et al. 2019), which is what a generator learns from.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../random.js';

export interface TrainingAugmentation {
  /** Largest shift in pixels along each image axis, per sample, with zero padding (0 or absent: none). */
  shift?: number;
  /** Mirror each image left-right with probability 1/2. */
  flip?: boolean;
  /** Standard deviation of Gaussian noise added to every input value (0 or absent: none). */
  noise?: number;
  /**
   * L-infinity radius of an adversarial perturbation (FGSM with a random start, shared/train/adversarial.ts)
   * applied after the other augmentations; it needs the model, so the fit loop applies it (0 or absent: none).
   */
  adversarial?: number;
  /**
   * Outlier exposure (Hendrycks et al., ICLR 2019): the weight of a second term that asks the model for the
   * uniform distribution on procedural images drawn from no data (shared/distill/procedural.ts), half a batch
   * of them beside every batch of real samples, so that confidence comes to mean "looks like my data" (0 or
   * absent: none). Single-channel images only; the fit loop applies it.
   */
  outliers?: number;
  /**
   * Mixup's α (shared/train/mixup.ts): every sample blended with another of its batch, targets alike, with
   * λ ~ Beta(α, α) (0 or absent: none). Applied after shifts, flips and noise; the fit loop applies it.
   */
  mixup?: number;
}

const FIELDS = ['shift', 'flip', 'noise', 'adversarial', 'outliers', 'mixup'];

/** Validates an augmentation block from a config file; errors name the path and the bad value. */
export function parseTrainingAugmentation(raw: unknown, path: string): TrainingAugmentation | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${path}: must be an object like {"shift": 2, "flip": true, "noise": 0.1}, got ${JSON.stringify(raw)}`);
  }
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) throw new Error(`${path}.${k}: unknown field; allowed: ${FIELDS.join(', ')}`);
  const out: TrainingAugmentation = {};
  if (o.shift !== undefined) {
    if (!Number.isInteger(o.shift) || (o.shift as number) < 0 || (o.shift as number) > 8) throw new Error(`${path}.shift: must be an integer in 0..8, got ${JSON.stringify(o.shift)}`);
    if (o.shift) out.shift = o.shift as number;
  }
  if (o.flip !== undefined) {
    if (typeof o.flip !== 'boolean') throw new Error(`${path}.flip: must be true or false, got ${JSON.stringify(o.flip)}`);
    if (o.flip) out.flip = true;
  }
  if (o.noise !== undefined) {
    if (typeof o.noise !== 'number' || !Number.isFinite(o.noise) || o.noise < 0 || o.noise > 1) throw new Error(`${path}.noise: must be a number in 0..1, got ${JSON.stringify(o.noise)}`);
    if (o.noise) out.noise = o.noise;
  }
  if (o.adversarial !== undefined) {
    if (typeof o.adversarial !== 'number' || !Number.isFinite(o.adversarial) || o.adversarial < 0 || o.adversarial > 0.5) {
      throw new Error(`${path}.adversarial: must be a number in 0..0.5 (an L-infinity radius), got ${JSON.stringify(o.adversarial)}`);
    }
    if (o.adversarial) out.adversarial = o.adversarial;
  }
  if (o.outliers !== undefined) {
    if (typeof o.outliers !== 'number' || !Number.isFinite(o.outliers) || o.outliers < 0 || o.outliers > 10) {
      throw new Error(`${path}.outliers: must be a number in 0..10 (the outlier-exposure term's weight), got ${JSON.stringify(o.outliers)}`);
    }
    if (o.outliers) out.outliers = o.outliers;
  }
  if (o.mixup !== undefined) {
    if (typeof o.mixup !== 'number' || !Number.isFinite(o.mixup) || o.mixup < 0 || o.mixup > 10) {
      throw new Error(`${path}.mixup: must be a number in 0..10 (the Beta distribution's alpha), got ${JSON.stringify(o.mixup)}`);
    }
    if (o.mixup) out.mixup = o.mixup;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Each sample's own shift (dy, dx) and flip, drawn from `rng`. */
export interface SampleDraw {
  dy: number;
  dx: number;
  flip: boolean;
}

export function drawSamples(n: number, a: TrainingAugmentation, rng: Random): SampleDraw[] {
  const s = a.shift ?? 0;
  return Array.from({ length: n }, () => ({
    dy: s ? rng.int(2 * s + 1) - s : 0,
    dx: s ? rng.int(2 * s + 1) - s : 0,
    flip: a.flip ? rng.next() < 0.5 : false,
  }));
}

/**
 * Shifts and flips each image [n, h, w, c] by its draw: the content moves by (dy, dx) pixels (down and right
 * for positive values) and what enters from the border is zero, the background of the data sets we use.
 */
export function shiftAndFlip(x: tf.Tensor, draws: SampleDraw[]): tf.Tensor {
  const [n, h, w, c] = x.shape as number[];
  if (draws.length !== n) throw new Error(`shiftAndFlip: ${draws.length} draws for a batch of ${n}`);
  const s = Math.max(0, ...draws.map((d) => Math.max(Math.abs(d.dy), Math.abs(d.dx))));
  return tf.tidy(() => {
    const padded = s ? tf.pad(x, [[0, 0], [s, s], [s, s], [0, 0]]) : x;
    const rows = draws.map((d, i) => {
      let img = tf.slice(padded, [i, s - d.dy, s - d.dx, 0], [1, h, w, c]);
      if (d.flip) img = tf.reverse(img, 2);
      return img;
    });
    return tf.concat(rows, 0);
  });
}

/** The augmented batch; shifts and flips apply to images (rank 4) only, noise to any input; `adversarial` is the fit loop's. */
export function augmentBatch(x: tf.Tensor, a: TrainingAugmentation, rng: Random): tf.Tensor {
  return tf.tidy(() => {
    let out = x;
    if (x.rank === 4 && (a.shift || a.flip)) out = shiftAndFlip(out, drawSamples(x.shape[0], a, rng));
    if (a.noise) out = tf.add(out, tf.randomNormal(out.shape, 0, a.noise, 'float32', rng.int(2 ** 31)));
    return out;
  });
}
