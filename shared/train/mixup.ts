/**
 * Mixup for a device's local training (Zhang et al., ICLR 2018): each sample is blended with another sample of
 * the same batch, x' = λ x_i + (1 − λ) x_j, and its target with the same λ, λ ~ Beta(α, α) per sample.
 *
 * Why it belongs to distillation: the coordinator learns from the teachers' answers on synthetic inputs that lie
 * between and beyond the devices' data. A teacher trained only on clean samples answers such inputs with
 * near one-hot confidence; one trained on blends has learnt to answer in proportion, so its soft labels off the
 * data carry more of the relations between classes that the student distils (Thulasidasan et al. 2019 on
 * mixup's calibration, Stanton et al. 2021 on augmentation and distillation fidelity).
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../random.js';

export interface MixedBatch {
  x: tf.Tensor;
  labels: tf.Tensor;
}

/** λ ~ Beta(α, α) as G₁ / (G₁ + G₂) with G ~ Gamma(α). */
export function betaDraw(rng: Random, alpha: number): number {
  const a = rng.gamma(alpha);
  const b = rng.gamma(alpha);
  return a + b > 0 ? a / (a + b) : 0.5;
}

/**
 * The batch `x` [n, ...] with its one-hot (or soft) `labels` [n, C], each row blended with a partner drawn by a
 * shuffled permutation. Each sample keeps the larger share of itself (λ' = max(λ, 1 − λ)), so every row stays
 * mostly the sample the epoch drew for it.
 */
export function mixupBatch(x: tf.Tensor, labels: tf.Tensor, alpha: number, rng: Random): MixedBatch {
  if (!(alpha > 0)) throw new Error(`mixupBatch: alpha must be > 0, got ${alpha}`);
  const n = x.shape[0];
  if (labels.shape[0] !== n) throw new Error(`mixupBatch: ${labels.shape[0]} label rows for a batch of ${n}`);
  const partner = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const lambdas = Float32Array.from({ length: n }, () => {
    const l = betaDraw(rng, alpha);
    return Math.max(l, 1 - l);
  });
  return tf.tidy(() => {
    const order = tf.tensor1d(partner, 'int32');
    const lambda = tf.tensor1d(lambdas);
    const blend = (t: tf.Tensor) => {
      const lam = tf.reshape(lambda, [n, ...t.shape.slice(1).map(() => 1)]);
      return tf.add(tf.mul(t, lam), tf.mul(tf.gather(t, order), tf.sub(1, lam)));
    };
    return { x: blend(x), labels: blend(labels) };
  });
}
