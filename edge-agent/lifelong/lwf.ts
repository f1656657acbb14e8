/**
 * The losses of one lifelong update, on logits [batch, classes]:
 *  - cross-entropy over the classes seen so far (class-incremental: the head has room for every class,
 *    but classes not yet seen are masked out of the softmax so they are neither pushed up nor down);
 *  - Learning without Forgetting (Li & Hoiem 2016, "Learning without Forgetting", eq. 2-4): cross-entropy
 *    between the previous model's temperature-T softmax over the old classes, recorded before the update,
 *    and the current model's, scaled by T^2 so its gradients keep their size as T changes (Hinton et al.
 *    2015, "Distilling the Knowledge in a Neural Network", sec. 2).
 */
import * as tf from '@tensorflow/tfjs';

/** A large negative logit offset: exp(-1e4) is 0 in float32, so masked classes get no probability. */
const MASKED = -1e4;

/** Additive mask [classes]: 0 for allowed classes, a large negative number elsewhere. */
export function classMask(numClasses: number, allowed: Iterable<number>): tf.Tensor1D {
  const mask = new Float32Array(numClasses).fill(MASKED);
  for (const c of allowed) mask[c] = 0;
  return tf.tensor1d(mask);
}

/** Mean softmax cross-entropy of integer labels over the classes the mask ([classes] or per row) allows. */
export function maskedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, mask: tf.Tensor): tf.Scalar {
  const numClasses = logits.shape[1];
  return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, numClasses), tf.add(logits, mask)) as tf.Scalar;
}

/**
 * T^2 * mean over the batch of -sum_o softmax(teacher_o / T) * log softmax(student_o / T), o over the old
 * classes only (the new classes have no old response to preserve). `oldMask` (classMask of the old
 * classes) confines both softmaxes to them: the teacher puts exactly 0 on the rest, so those terms vanish.
 * Masking rather than gathering columns keeps the gradient to ops every backend has.
 */
export function lwfDistillation(student: tf.Tensor2D, teacher: tf.Tensor2D, oldMask: tf.Tensor1D, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const s = tf.add(tf.div(student, temperature), oldMask);
    const t = tf.softmax(tf.add(tf.div(teacher, temperature), oldMask));
    const crossEntropy = tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(s)), 1));
    return tf.mul(tf.mean(crossEntropy), temperature * temperature) as tf.Scalar;
  });
}
