/**
 * Adversarial training inputs for a device's local training: FGSM with a random start ("fast adversarial
 * training", Wong, Rice & Kolter, ICLR 2020), an L-infinity perturbation of radius epsilon per input value.
 *
 * Why it belongs to distillation: the coordinator synthesizes inputs by following the teachers' input
 * gradients. Adversarially trained models have perceptually aligned input gradients (Tsipras et al. 2019,
 * Santurkar et al. 2019: a robust classifier alone can synthesize class images), where a plainly trained one
 * rewards pixel patterns no real sample has. Gaussian noise (augment.noise) is the weak form of the same idea.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../random.js';

/** FGSM step size as a multiple of epsilon: Wong et al.'s 1.25, which with the random start avoids the catastrophic overfitting of plain FGSM. */
const STEP_OVER_EPSILON = 1.25;

/**
 * x moved within the L-infinity ball of radius `epsilon` toward a higher loss: a uniform random start, then one
 * signed-gradient step of 1.25 epsilon on the softmax cross-entropy against `labels` (one-hot), clipped back to
 * the ball. The gradient uses the model in inference mode so that the attack does not move batch-norm moving
 * statistics (tf.js updates them in every training-mode call). Pixel values are not clipped to the data range:
 * the perturbation is the thing being learnt from, and the teacher's inputs at query time are not clipped either.
 */
export function adversarialInputs(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor, epsilon: number, rng: Random): tf.Tensor {
  if (!(epsilon > 0)) throw new Error(`adversarialInputs: epsilon must be > 0, got ${epsilon}`);
  return tf.tidy(() => {
    const start = tf.randomUniform(x.shape, -epsilon, epsilon, 'float32', rng.int(2 ** 31));
    const lossOf = (input: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, model.apply(input, { training: false }) as tf.Tensor) as tf.Scalar;
    const gradient = tf.grad(lossOf)(tf.add(x, start));
    const delta = tf.clipByValue(tf.add(start, tf.mul(tf.sign(gradient), STEP_OVER_EPSILON * epsilon)), -epsilon, epsilon);
    return tf.add(x, delta);
  });
}
