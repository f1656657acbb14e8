/**
 * Distillation losses, as small functions over tensors (call inside tf.tidy / an optimizer closure).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Response-based KD (Hinton et al. 2015): τ² · mean_i KL(p_i ‖ softmax(z_i / τ)), where p are the
 * aggregated teacher distributions at temperature τ. The τ² keeps gradient magnitudes comparable across τ.
 */
export function kdLoss(studentLogits: tf.Tensor, targetProbs: tf.Tensor, tau: number): tf.Scalar {
  return tf.mul(tau * tau, tf.mean(kdPerSample(studentLogits, targetProbs, tau))) as tf.Scalar;
}

/** KL(p_i ‖ softmax(z_i / τ)) for each row i (without the τ² factor): how far the student is on each sample. */
export function kdPerSample(studentLogits: tf.Tensor, targetProbs: tf.Tensor, tau: number): tf.Tensor1D {
  const logQ = tf.logSoftmax(tf.div(studentLogits, tau));
  const logP = tf.log(tf.maximum(targetProbs, 1e-8));
  return tf.sum(tf.mul(targetProbs, tf.sub(logP, logQ)), -1) as tf.Tensor1D;
}

/**
 * Logit matching (Ba & Caruana 2014; the regression loss of data-free KD such as DFAD): mean squared error
 * between the student's logits and the targets' logits τ · log p, both centred per row, since a distribution
 * fixes its logits only up to a constant. Unlike KL it keeps pulling on classes the targets rank very low.
 */
export function logitMatchLoss(studentLogits: tf.Tensor, targetProbs: tf.Tensor, tau: number): tf.Scalar {
  const centre = (t: tf.Tensor) => tf.sub(t, tf.mean(t, -1, true));
  const targetLogits = centre(tf.mul(tau, tf.log(tf.maximum(targetProbs, 1e-8))));
  return tf.mean(tf.square(tf.sub(centre(studentLogits), targetLogits))) as tf.Scalar;
}

/** Mean L1 distance between two batches of probability rows (the DFAD disagreement measure). */
export function l1Disagreement(p: tf.Tensor, q: tf.Tensor): tf.Scalar {
  return tf.mean(tf.sum(tf.abs(tf.sub(p, q)), -1)) as tf.Scalar;
}

/**
 * Mode-seeking diversity (Mao et al., CVPR 2019): for sample pairs (i, i + n/2) drawn with the same label,
 * mean ‖x_i − x_j‖₁ / mean ‖z_i − z_j‖₁. Generators maximise it so different noise gives different samples.
 */
export function modeSeeking(x: tf.Tensor, z: tf.Tensor): tf.Scalar {
  const half = Math.floor(x.shape[0] / 2);
  if (half === 0) return tf.scalar(0);
  const xa = x.slice(0, half);
  const xb = x.slice(half, half);
  const za = z.slice(0, half);
  const zb = z.slice(half, half);
  return tf.div(tf.mean(tf.abs(tf.sub(xa, xb))), tf.add(tf.mean(tf.abs(tf.sub(za, zb))), 1e-8)) as tf.Scalar;
}

/**
 * Anisotropic total variation of a batch of images [n, H, W, C] (DeepInversion's image prior, L1 form): the
 * mean absolute difference between vertically and between horizontally neighbouring pixels, summed over the
 * two directions. Natural images (garments on a black background) score low; high-frequency textures high.
 */
export function totalVariation(x: tf.Tensor): tf.Scalar {
  if (x.rank !== 4) throw new Error(`totalVariation needs images [n, H, W, C], got shape [${x.shape.join(', ')}]`);
  const [n, H, W, C] = x.shape;
  const vertical = H > 1 ? tf.mean(tf.abs(tf.sub(x.slice([0, 1, 0, 0], [n, H - 1, W, C]), x.slice([0, 0, 0, 0], [n, H - 1, W, C])))) : tf.scalar(0);
  const horizontal = W > 1 ? tf.mean(tf.abs(tf.sub(x.slice([0, 0, 1, 0], [n, H, W - 1, C]), x.slice([0, 0, 0, 0], [n, H, W - 1, C])))) : tf.scalar(0);
  return tf.add(vertical, horizontal) as tf.Scalar;
}

/** Mean squared value of a batch (DeepInversion's l2 prior on the inputs, per element). */
export function meanSquare(x: tf.Tensor): tf.Scalar {
  return tf.mean(tf.square(x)) as tf.Scalar;
}

/**
 * History repulsion (the negative half of CMI's contrastive model inversion, Fang et al. IJCAI 2021):
 * mean_i log Σ_k exp(cos(f_i, h_k) / T) between the features f of a new batch and the features h of samples
 * drawn earlier (a memory bank, held constant). A generator that minimises it moves each new sample away
 * from its nearest old ones in feature space, towards regions earlier batches left uncovered; the lower T,
 * the more only the nearest neighbours count.
 */
export function historyRepulsion(features: tf.Tensor, bank: tf.Tensor, temperature: number): tf.Scalar {
  if (features.rank !== 2 || bank.rank !== 2 || features.shape[1] !== bank.shape[1]) {
    throw new Error(`historyRepulsion needs features [n, d] and a bank [k, d], got [${features.shape.join(', ')}] and [${bank.shape.join(', ')}]`);
  }
  const unit = (t: tf.Tensor) => tf.div(t, tf.add(tf.norm(t, 'euclidean', -1, true), 1e-8));
  const similarity = tf.matMul(unit(features), unit(bank), false, true);
  return tf.mean(tf.logSumExp(tf.div(similarity, temperature), -1)) as tf.Scalar;
}

/**
 * Jacobian matching along given directions (Srinivas & Fleuret, ICML 2018, "Knowledge transfer with Jacobian
 * matching"), with no second derivatives: the model's directional derivative of u_i · z(x_i) along each
 * direction v_i is taken by central differences, (u_i · z(x_i + εv_i) − u_i · z(x_i − εv_i)) / 2ε, and compared
 * with the teacher's value t_i (g_i · v_i for the teacher's input gradient g_i) as a mean squared error. With
 * rows of u summing to zero (e.g. e_a − e_b) u · z is a log-probability margin: the softmax normaliser cancels.
 * Central differences keep it to forward passes, which every TF.js kernel (max-pool included) can differentiate.
 */
export function directionalDerivativeLoss(model: tf.LayersModel, x: tf.Tensor, u: tf.Tensor, directions: tf.Tensor, targets: tf.Tensor, epsilon: number): tf.Scalar {
  if (!(epsilon > 0)) throw new Error(`directionalDerivativeLoss needs a positive epsilon, got ${epsilon}`);
  const n = x.shape[0];
  if (directions.shape.join() !== x.shape.join() || u.shape[0] !== n || targets.shape[0] !== n) {
    throw new Error(`directionalDerivativeLoss: x [${x.shape}], u [${u.shape}], directions [${directions.shape}] and targets [${targets.shape}] must share their first dimension (and x, directions their shape)`);
  }
  const step = tf.mul(epsilon, directions);
  const margin = (at: tf.Tensor) => tf.sum(tf.mul(model.apply(at, { training: true }) as tf.Tensor, u), -1);
  const derivative = tf.div(tf.sub(margin(tf.add(x, step)), margin(tf.sub(x, step))), 2 * epsilon);
  return tf.mean(tf.square(tf.sub(derivative, targets))) as tf.Scalar;
}
