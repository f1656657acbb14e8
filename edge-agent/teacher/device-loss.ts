/**
 * The device-side loss whose input gradient a device returns (see shared/distill/port.ts GradientQuery):
 *
 *   L(x) = ce · (1/n) Σ_i w_i CE(T(x_i), y_i)                                class-conditional fidelity
 *        + bn · Σ_l ‖μ_l(x) − μ̂_l‖₂ + ‖σ²_l(x) − σ̂²_l‖₂                      DeepInversion (Yin et al., CVPR 2020)
 *        − adv · mean_i ‖softmax T(x_i) − s_i‖₁                              DFAD/DENSE disagreement
 *
 * μ̂, σ̂² are the teacher's running batch-norm statistics; s_i are student probabilities the coordinator sent.
 * μ_l, σ²_l are the batch's moments, with every sample alike or, given bnSampleWeights v (Σ v = 1), weighted:
 * μ = Σ_i v_i mean_pos h_i, σ² = Σ_i v_i mean_pos (h_i − μ)², over the layer's spatial positions.
 * Given per-class statistics instead (BnClassMix 'class'), each layer's term is Σ_c w_c (‖μ_l,c(x) − μ̂_l,c‖₂ +
 * ‖σ²_l,c(x) − σ̂²_l,c‖₂): the moments of the batch's samples requested as class c against the device's own
 * statistics of class c, weighted by w_c = (1/n) Σ_{i: y_i = c} w_i (the CE term's sample weights).
 * With SmoothGrad (GradientQuery.smoothGrad) the CE and adversarial terms are averaged over k noisy copies
 * x + σε_k, each copy's row weighted like its sample's; the BN term and the logits stay at x.
 * With a focusing exponent γ (GradientQuery.ceFocal) each row's CE is also weighted by (1 − p_y)^γ, p_y the
 * teacher's probability of the requested class at that row, held constant (no gradient flows through it).
 * Everything is computed on the device: only dL/dx and the logits leave it.
 */
import * as tf from '@tensorflow/tfjs';
import type { SmoothGradQuery } from '../../shared/distill/port.js';
import { seededRandom } from '../../shared/random.js';

/** A teacher with taps on the inputs of its batch-norm layers, and their running statistics. */
export interface TappedTeacher {
  /** Outputs [logits, ...bnInputs]. */
  model: tf.LayersModel;
  bnStats: { mean: tf.Tensor; variance: tf.Tensor }[];
}

export function tapBatchNorm(teacher: tf.LayersModel): TappedTeacher {
  const bnLayers = teacher.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  const model = tf.model({
    inputs: teacher.inputs,
    outputs: [teacher.outputs[0], ...bnLayers.map((l) => l.input as tf.SymbolicTensor)],
  });
  const bnStats = bnLayers.map((l) => {
    const w = l.getWeights();
    // BatchNormalization weights are [gamma, beta, movingMean, movingVariance] (center and scale on).
    return { mean: w[w.length - 2], variance: w[w.length - 1] };
  });
  return { model, bnStats };
}

export interface DeviceLossInputs {
  x: tf.Tensor;
  targets: tf.Tensor;
  sampleWeights: tf.Tensor;
  /** [n, C] per-class CE weights; when present the CE term is mean_i Σ_c a_ic (−log p_ic) and sampleWeights is unused. */
  classWeights?: tf.Tensor;
  studentProbs?: tf.Tensor;
  weights: { ce: number; bn: number; adv: number };
  /** [n] weights summing to 1 for the BN term's batch moments (absent: every sample alike). */
  bnSampleWeights?: tf.Tensor;
  /** Multiplier of the first BN layer's term (default 1). */
  bnFirstLayer?: number;
  /** Compare each class's samples with per-class statistics instead of the running ones (see ClassBnTerms). */
  classBn?: ClassBnTerms;
  /** SmoothGrad: noise [k·n, ...] (copy-major, smoothGradNoise) added to k copies of x, at which the CE and adversarial terms are evaluated. */
  smoothGradNoise?: tf.Tensor;
  /** Focusing exponent γ of the CE term (GradientQuery.ceFocal); 0 or absent: plain CE. */
  ceFocal?: number;
}

/** t's value with no gradient through it (TF.js has no stopGradient op). */
const constantInGrad = tf.customGrad((t) => ({
  value: (t as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
})) as (t: tf.Tensor) => tf.Tensor;

/** Each row's CE weight (1 − p_y)^γ, p = softmax(logits) and y the row's one-hot target, held constant. */
export function focalWeights(logits: tf.Tensor, targetsOneHot: tf.Tensor, gamma: number): tf.Tensor {
  const py = tf.sum(tf.mul(tf.softmax(logits), tf.cast(targetsOneHot, 'float32')), -1);
  return constantInGrad(tf.pow(tf.relu(tf.sub(1, py)), gamma));
}

/** The SmoothGrad noise σ·ε for k copies of a batch of `size` values, copy-major, drawn from the query's seed. */
export function smoothGradNoise(s: SmoothGradQuery, size: number): Float32Array {
  const rng = seededRandom(s.seed);
  return Float32Array.from({ length: s.samples * size }, () => s.sigma * rng.normal());
}

/** Repeats a per-sample tensor ([n, ...]) for k copies, copy-major like the noise. */
function perCopy(t: tf.Tensor, k: number): tf.Tensor {
  return k === 1 ? t : tf.tile(t, [k, ...t.shape.slice(1).map(() => 1)]);
}

/** The per-class BN term's inputs: the classes compared, their weights, and each BN layer's statistics. */
export interface ClassBnTerms {
  /** Classes present in the batch that the device has statistics of and a non-zero weight for. */
  classes: Int32Array;
  /** w_c of each of `classes`. */
  weights: Float32Array;
  /** Per BN layer, [numClasses, channels] means and variances (constants). */
  stats: { mean: tf.Tensor2D; variance: tf.Tensor2D }[];
}

/**
 * Which classes the per-class BN term compares, and with what weight: the classes of `targets` the device has
 * statistics of (`counts` > 0), each weighted by (1/n) Σ of its samples' CE weights (1 each when absent).
 */
export function classBnWeights(targets: Int32Array, sampleWeights: Float32Array | undefined, counts: readonly number[]): { classes: Int32Array; weights: Float32Array } {
  const n = targets.length;
  const byClass = new Map<number, number>();
  targets.forEach((y, i) => byClass.set(y, (byClass.get(y) ?? 0) + (sampleWeights ? sampleWeights[i] : 1) / n));
  const kept = [...byClass].filter(([c, w]) => w > 0 && (counts[c] ?? 0) > 0).sort((a, b) => a[0] - b[0]);
  return { classes: Int32Array.from(kept, ([c]) => c), weights: Float32Array.from(kept, ([, w]) => w) };
}

/**
 * Euclidean norm of each row, with a gradient of 0 instead of NaN where a row is exactly zero: a class whose
 * few samples are all alike can meet a statistic (a variance of 0) exactly, and one NaN would poison the
 * generator for good.
 */
function rowNorms(d: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.add(tf.sum(tf.square(d), 1), 1e-12));
}

/** Which samples belong to each compared class, built once per query and shared by every BN layer. */
interface ClassMembership {
  /** [n, A]: 1 where sample i was requested as the a-th compared class. */
  member: tf.Tensor;
  /** [A, 1]: samples per compared class, each >= 1 by construction. */
  count: tf.Tensor;
  classes: tf.Tensor1D;
  weights: tf.Tensor1D;
}

function classMembership(targetsOneHot: tf.Tensor, terms: ClassBnTerms): ClassMembership {
  const classes = tf.tensor1d(terms.classes, 'int32');
  const member = tf.gather(tf.cast(targetsOneHot, 'float32'), classes, 1);
  return { member, count: tf.reshape(tf.sum(member, 0), [-1, 1]), classes, weights: tf.tensor1d(terms.weights) };
}

/** Σ_c w_c (‖μ_c − μ̂_c‖ + ‖σ²_c − σ̂²_c‖) for one BN layer's input h, its samples grouped by requested class. */
function classBnTerm(h: tf.Tensor, m: ClassMembership, stats: ClassBnTerms['stats'][number]): tf.Scalar {
  const perSample = tf.reshape(h, [h.shape[0]!, -1, h.shape[h.rank - 1]!]); // [n, positions, channels]
  const mean = tf.div(tf.matMul(m.member, tf.mean(perSample, 1), true), m.count);
  const variance = tf.sub(tf.div(tf.matMul(m.member, tf.mean(tf.square(perSample), 1), true), m.count), tf.square(mean));
  const distance = tf.add(rowNorms(tf.sub(mean, tf.gather(stats.mean, m.classes))), rowNorms(tf.sub(variance, tf.gather(stats.variance, m.classes))));
  return tf.sum(tf.mul(distance, m.weights)) as tf.Scalar;
}

/** DeepInversion's term for one BN layer: the batch's moments (optionally sample-weighted) against the running ones. */
function runningBnTerm(h: tf.Tensor, stats: TappedTeacher['bnStats'][number], bnSampleWeights?: tf.Tensor): tf.Scalar {
  const axes = h.shape.slice(0, -1).map((_, k) => k);
  const { mean, variance } = bnSampleWeights ? weightedMoments(h, bnSampleWeights) : tf.moments(h, axes);
  return tf.add(tf.norm(tf.sub(mean, stats.mean)), tf.norm(tf.sub(variance, stats.variance))) as tf.Scalar;
}

/**
 * The BN term's sample weights for BnClassMix 'own': each sample's requested class's count in the device's
 * own label histogram, normalised to sum 1. A sample of a class the device never saw weighs nothing; when it
 * saw none of the batch's classes, every weight is 0 and the BN term has no gradient.
 */
export function ownClassMix(histogram: readonly number[], targets: Int32Array): tf.Tensor1D {
  const counts = Float32Array.from(targets, (y) => histogram[y] ?? 0);
  const total = counts.reduce((a, b) => a + b, 0);
  return tf.tensor1d(total > 0 ? counts.map((c) => c / total) : counts);
}

/** Mean and variance of h over all axes but the last, each sample weighted by v (which sums to 1). */
function weightedMoments(h: tf.Tensor, v: tf.Tensor): { mean: tf.Tensor; variance: tf.Tensor } {
  const n = h.shape[0]!;
  const perSample = tf.reshape(h, [n, -1, h.shape[h.rank - 1]!]); // [n, positions, channels]
  const w = tf.reshape(v, [n, 1, 1]);
  const mean = tf.sum(tf.mul(tf.mean(perSample, 1, true), w), [0, 1]);
  const variance = tf.sum(tf.mul(tf.mean(tf.square(tf.sub(perSample, mean)), 1, true), w), [0, 1]);
  return { mean, variance };
}

export interface DeviceLossTerms {
  total: tf.Scalar;
  logits: tf.Tensor;
  ce: tf.Scalar;
  bn: tf.Scalar;
  adv: tf.Scalar;
}

function outputList(outputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(outputs) ? outputs : [outputs];
}

/** Builds the loss terms for input x (call inside tf.grad / tf.tidy). */
export function deviceLoss(t: TappedTeacher, q: DeviceLossInputs): DeviceLossTerms {
  const [logits, ...bnInputs] = outputList(t.model.apply(q.x, { training: false }) as tf.Tensor | tf.Tensor[]);
  const zero = tf.scalar(0);
  // The fidelity terms' logits: at x, or at the noisy copies (their mean over k·n rows is the mean over copies).
  const noise = q.smoothGradNoise;
  const k = noise ? noise.shape[0]! / q.x.shape[0]! : 1;
  const fidelity = noise ? outputList(t.model.apply(tf.add(perCopy(q.x, k), noise), { training: false }) as tf.Tensor | tf.Tensor[])[0] : logits;
  let ce: tf.Scalar = zero;
  if (q.weights.ce) {
    const rowCe = q.classWeights
      ? tf.sum(tf.mul(perCopy(q.classWeights, k), tf.neg(tf.logSoftmax(fidelity))), -1)
      : tf.mul(tf.losses.softmaxCrossEntropy(perCopy(q.targets, k), fidelity, undefined, 0, tf.Reduction.NONE), perCopy(q.sampleWeights, k));
    ce = tf.mean(q.ceFocal ? tf.mul(rowCe, focalWeights(fidelity, perCopy(q.targets, k), q.ceFocal)) : rowCe) as tf.Scalar;
  }
  let bn: tf.Scalar = zero;
  if (q.weights.bn && bnInputs.length) {
    const classes = q.classBn?.classes.length ? classMembership(q.targets, q.classBn) : undefined;
    const terms = bnInputs.map((h, i) => {
      // Per-class mode with no class to compare (none the device has statistics of): no BN term.
      const term = q.classBn ? (classes ? classBnTerm(h, classes, q.classBn.stats[i]) : tf.scalar(0)) : runningBnTerm(h, t.bnStats[i], q.bnSampleWeights);
      const weight = i === 0 ? (q.bnFirstLayer ?? 1) : 1;
      return weight === 1 ? term : tf.mul(weight, term);
    });
    bn = tf.addN(terms) as tf.Scalar;
  }
  const adv = q.weights.adv && q.studentProbs ? (tf.mean(tf.sum(tf.abs(tf.sub(tf.softmax(fidelity), perCopy(q.studentProbs, k))), -1)) as tf.Scalar) : zero;
  const total = tf.sub(tf.add(tf.mul(q.weights.ce, ce), tf.mul(q.weights.bn, bn)), tf.mul(q.weights.adv, adv)) as tf.Scalar;
  return { total, logits, ce, bn, adv };
}
