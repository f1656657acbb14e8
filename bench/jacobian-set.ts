/**
 * Jacobian matching on a replay buffer, for bench:replay: would a student learn more from the synthetic samples
 * if it also matched the ensemble's input gradients there (Srinivas & Fleuret 2018), not only its soft labels?
 *
 * For each chosen sample the vote's top class a and a random other class b give the margin
 * m(x) = log q(a | x) − log q(b | x) of the class-weighted vote at τ = 1, log q(c) = Σ_d w_dc log p_dc + const
 * (the normaliser cancels in the difference). Devices asked with per-class CE weights a_dc = w_dc (e_b − e_a)_c
 * (gradient.query's classWeights, as generatorCe 'ensemble' uses them) would return gradients that sum to g / n,
 * g = ∇ₓ m per sample and n the batch size (their CE term is a batch mean); here the scenario's cached teachers
 * compute g in-process. A student step
 * then compares the student's margin's directional derivatives with the teachers' along two unit directions per
 * sample, g / |g| (target |g|) and a random one r (target g · r): `directionalDerivativeLoss`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../shared/random.js';
import { classVoteWeights } from '../shared/distill/aggregation/class-weighted.js';
import { directionalDerivativeLoss } from '../shared/distill/losses.js';

export interface JacobianSet {
  n: number;
  x: Float32Array;
  /** The margin's classes per sample: vote's top class a, random other b. */
  top: Int32Array;
  other: Int32Array;
  /** ∇ₓ m(x) per sample, row-major like x. */
  gradient: Float32Array;
}

/** Row `i` of a flat row-major array of rows of `width`. */
const row = (a: Float32Array, i: number, width: number) => a.subarray(i * width, (i + 1) * width);

/** The vote's margin gradients at `count` samples drawn from `pool` (row-major, `sampleShape` each). */
export function buildJacobianSet(teachers: tf.LayersModel[], histograms: number[][], pool: Float32Array, count: number, sampleShape: number[], rng: Random): JacobianSet {
  const F = sampleShape.reduce((a, b) => a * b, 1);
  const C = histograms[0].length;
  const voteWeights = tf.tensor2d(classVoteWeights(histograms, C), [teachers.length, C]);
  const vote = (x: tf.Tensor) => tf.addN(teachers.map((m, d) => tf.mul(tf.logSoftmax(m.apply(x, { training: false }) as tf.Tensor2D), voteWeights.slice([d, 0], [1, C]))));
  const set: JacobianSet = { n: count, x: new Float32Array(count * F), top: new Int32Array(count), other: new Int32Array(count), gradient: new Float32Array(count * F) };
  const poolSize = pool.length / F;
  for (let i = 0; i < count; i++) set.x.set(row(pool, rng.int(poolSize), F), i * F);
  for (let start = 0; start < count; start += 500) {
    const rows = Math.min(500, count - start);
    const x = tf.tensor(set.x.subarray(start * F, (start + rows) * F), [rows, ...sampleShape]);
    const top = tf.tidy(() => tf.argMax(vote(x), 1).dataSync());
    const u = new Float32Array(rows * C);
    for (let r = 0; r < rows; r++) {
      let b = rng.int(C - 1);
      if (b >= top[r]) b++;
      set.top[start + r] = top[r];
      set.other[start + r] = b;
      u[r * C + top[r]] = 1;
      u[r * C + b] = -1;
    }
    const uT = tf.tensor2d(u, [rows, C]);
    set.gradient.set(tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(vote(xi), uT)))(x).dataSync()), start * F);
    tf.dispose([x, uT]);
  }
  voteWeights.dispose();
  return set;
}

/** Mean |g| over the set: the scale of the targets the student's derivatives are compared with. */
export function meanGradientNorm(set: JacobianSet): number {
  const F = set.x.length / set.n;
  let total = 0;
  for (let i = 0; i < set.n; i++) total += Math.hypot(...row(set.gradient, i, F));
  return total / set.n;
}

/**
 * The Jacobian-matching loss of `student` on `count` samples of the set, along g / |g| and a fresh random unit
 * direction each (call inside an optimizer closure).
 */
export function jacobianLoss(student: tf.LayersModel, set: JacobianSet, count: number, sampleShape: number[], numClasses: number, epsilon: number, rng: Random): tf.Scalar {
  const F = set.x.length / set.n;
  const n = 2 * count;
  const x = new Float32Array(n * F);
  const v = new Float32Array(n * F);
  const u = new Float32Array(n * numClasses);
  const targets = new Float32Array(n);
  for (let k = 0; k < count; k++) {
    const j = rng.int(set.n);
    const g = row(set.gradient, j, F);
    const norm = Math.hypot(...g) || 1;
    const random = Float32Array.from({ length: F }, () => rng.normal());
    const randomNorm = Math.hypot(...random) || 1;
    let along = 0;
    for (let f = 0; f < F; f++) {
      v[k * F + f] = g[f] / norm;
      v[(count + k) * F + f] = random[f] / randomNorm;
      along += g[f] * v[(count + k) * F + f];
    }
    targets[k] = norm;
    targets[count + k] = along;
    for (const r of [k, count + k]) {
      x.set(row(set.x, j, F), r * F);
      u[r * numClasses + set.top[j]] = 1;
      u[r * numClasses + set.other[j]] = -1;
    }
  }
  return tf.tidy(() =>
    directionalDerivativeLoss(student, tf.tensor(x, [n, ...sampleShape]), tf.tensor2d(u, [n, numClasses]), tf.tensor(v, [n, ...sampleShape]), tf.tensor1d(targets), epsilon),
  );
}
