/**
 * Relabelled mixtures of replayed samples ("function matching", Beyer et al., CVPR 2022: a student learns
 * far more from a teacher asked about many interpolated and augmented views than from the few points it was
 * shown). After a round's generator steps the coordinator mixes random pairs of replay-buffer samples
 * (x = λ a + (1 − λ) b, λ ~ U(0, 1) per sample), optionally shifts and flips each mixture, and asks every
 * device for its teacher's logits on the result. The aggregated answers go into the replay buffer like any
 * query's. This differs from `studentJitter`, which moves replayed samples but keeps their stale labels:
 * here the teachers label exactly what the student will see.
 *
 * A logits query sends the inputs down and only [batch, classes] logits up, and costs the device one forward
 * pass: about half the bytes of a gradient query and a fraction of its compute, for new labelled samples that
 * lie between the generator's modes, near the teachers' decision boundaries.
 *
 * Measured on fmnist-cnn-dir0.5 (seed 2, 10 batches a round): faster early rounds, the same final accuracy
 * (78.87% against 78.92%, docs/fmnist-ablations.md), for twice the bytes down. So it is off by default.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../../shared/random.js';
import { kdPerSample } from '../../shared/distill/losses.js';
import { drawJitter, jitterEachSample, jitterEnabled, type JitterSettings } from './jitter.js';
import type { ReplayBuffer } from './replay.js';

export interface RelabelSettings {
  /** Logits queries per round (0: off), each of `batchSize` mixtures. */
  batches: number;
  /** Mix random pairs of replayed samples; false relabels single (jittered) samples. */
  mixup: boolean;
  /** Per-sample shift (pixels) and flip applied to each mixture (images only). */
  shift: number;
  flip: boolean;
  /**
   * Step size of one signed-gradient step (FGSM) that moves each input toward where the student disagrees
   * most with the soft label it was drawn with (mixed like the inputs), before the devices label it: hard
   * samples in the spirit of DFAD and Co-Boosting, found with the coordinator's own student, so it costs no
   * device traffic. Images stay in [0, 1]. 0: off.
   */
  adversarial: number;
  /** The first round that relabels (1: every round); earlier rounds run as without relabelling. */
  fromRound: number;
}

export const NO_RELABEL: RelabelSettings = { batches: 0, mixup: true, shift: 0, flip: false, adversarial: 0, fromRound: 1 };

/** Rows of samples (`x`, row-major) with their soft labels (`targets`). */
export interface LabelledRows {
  x: Float32Array;
  targets: Float32Array;
  n: number;
  /** Side targets per row (ReplayBatch.side), when the rows carry them. */
  side?: Float32Array;
}

/** The rows of `a` followed by those of `b` (side targets kept only when both carry them). */
export function concatRows(a: LabelledRows, b: LabelledRows): LabelledRows {
  const rows = { x: joined(a.x, b.x), targets: joined(a.targets, b.targets), n: a.n + b.n };
  return a.side && b.side ? { ...rows, side: joined(a.side, b.side) } : rows;
}

function joined(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * MixUp of two equally long batches: row i is λ_i a_i + (1 − λ_i) b_i, inputs and soft labels alike
 * (`lambdas[i]` = λ_i, one per row).
 */
export function blendPairs(a: LabelledRows, b: LabelledRows, lambdas: ArrayLike<number>): LabelledRows {
  if (b.n !== a.n || lambdas.length !== a.n) throw new Error(`blendPairs: ${a.n} rows, ${b.n} partners and ${lambdas.length} weights must match`);
  const features = a.x.length / a.n;
  const C = a.targets.length / a.n;
  const x = new Float32Array(a.x.length);
  const targets = new Float32Array(a.targets.length);
  for (let i = 0; i < a.n; i++) {
    const lambda = lambdas[i];
    for (let k = i * features; k < (i + 1) * features; k++) x[k] = lambda * a.x[k] + (1 - lambda) * b.x[k];
    for (let k = i * C; k < (i + 1) * C; k++) targets[k] = lambda * a.targets[k] + (1 - lambda) * b.targets[k];
  }
  return { x, targets, n: a.n };
}

/**
 * One batch of up to `n` inputs to relabel, drawn from the buffer, as row-major values for `sampleShape`.
 * Draws from `rng` in a fixed order (pairs, mixing weights, then jitter), so runs and resumes repeat exactly.
 */
export function relabelInputs(replay: ReplayBuffer, n: number, sampleShape: readonly number[], s: RelabelSettings, rng: Random): { values: Float32Array; shape: number[]; targets: Float32Array } {
  const a = replay.sample(n, rng);
  let values = a.x;
  let targets = a.targets;
  if (s.mixup) {
    const b = replay.sample(a.n, rng);
    ({ x: values, targets } = blendPairs(a, b, Array.from({ length: a.n }, () => rng.next())));
  }
  const shape = [a.n, ...sampleShape];
  const jitter: JitterSettings = { shift: s.shift, flip: s.flip };
  if (jitterEnabled(jitter)) values = jitterEachSample(values, shape, () => drawJitter(jitter, rng));
  return { values, shape, targets };
}

/**
 * One FGSM step of size `epsilon` on each input, up the student's KL from the batch's soft labels p at τ
 * (as relabelInputs returns them): x + ε · sign(∇ₓ KL(p ‖ softmax(S(x) / τ))), clipped to [0, 1] for images
 * (rank-4 shapes).
 */
export function towardDisagreement(student: tf.LayersModel, batch: { values: Float32Array; shape: number[]; targets: Float32Array }, tau: number, epsilon: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor(batch.values, batch.shape);
    const n = batch.shape[0];
    const p = tf.tensor2d(batch.targets, [n, batch.targets.length / n]);
    const grad = tf.grad((xi: tf.Tensor) => tf.sum(kdPerSample(student.apply(xi, { training: false }) as tf.Tensor, p, tau)))(x);
    let moved = tf.add(x, tf.mul(epsilon, tf.sign(grad)));
    if (batch.shape.length === 4) moved = tf.clipByValue(moved, 0, 1);
    return moved.dataSync() as Float32Array;
  });
}
