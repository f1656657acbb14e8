/**
 * Outlier exposure for a device's local training (Hendrycks, Mazeika & Dietterich, ICLR 2019): beside every
 * batch of its own samples, the model sees half a batch of procedural images drawn from no data and is asked
 * for the uniform distribution on them.
 *
 * Why it belongs to distillation: the coordinator's generator follows the teachers' confidence. A plainly
 * trained teacher is nearly as sure of the generator's glyphs on blobs as of real garments, so the generator
 * settles for glyphs; a teacher exposed to outliers should keep its confidence for inputs that look like its
 * data, the signal the generator should climb. On Fashion-MNIST it did not work out: the teachers doubt the
 * procedural pool as well and the generator finds other glyphs (docs/fmnist-ablations.md, "Teachers exposed to
 * outliers"). The images come from the device's own seeded stream; nothing leaves the device.
 */
import * as tf from '@tensorflow/tfjs';
import { proceduralBatch } from '../distill/procedural.js';
import type { Random } from '../random.js';

/**
 * Throws unless a local-training block (`path`: its `augment` and `recalibrateBn`) that asks for outliers also
 * re-estimates the BN statistics afterwards: trained in one pass with the outliers, the moving statistics
 * include them, and the devices' BN term would pull the coordinator's samples toward them.
 */
export function checkOutliersRecalibrated(augment: { outliers?: number } | undefined, recalibrateBn: boolean | undefined, path: string): void {
  if (augment?.outliers && !recalibrateBn) {
    throw new Error(`${path}.augment.outliers: needs ${path}.recalibrateBn: true, or the teachers' batch-norm statistics include the outlier images and the devices' BN term pulls samples toward them`);
  }
}

/** Throws unless outlier images can be drawn for samples of this shape (single-channel images). */
export function checkOutlierShape(sampleShape: readonly number[]): void {
  if (sampleShape.length !== 3 || sampleShape[2] !== 1) {
    throw new Error(`augment.outliers: procedural outliers are single-channel images; this data set's samples are [${sampleShape}]`);
  }
}

/** The outliers shown beside a batch of `batch` samples: half as many procedural images, [k, h, w, 1]. */
export function outlierBatch(rng: Random, batch: number, sampleShape: readonly number[]): tf.Tensor4D {
  const k = Math.ceil(batch / 2);
  const [h, w] = sampleShape;
  return tf.tensor4d(proceduralBatch(rng, k, h, w), [k, h, w, 1]);
}

/**
 * Cross-entropy on the labelled samples plus `weight` × the cross-entropy between the uniform distribution and
 * the model's answers on the outliers, both from one training-mode pass over the joined batch. One pass
 * matters for batch norm: with the outliers in a separate inference-mode pass the model learns to tell the two
 * modes apart and answers uniformly at test time (a one-off check on Fashion-MNIST: 16.6% test accuracy). The moving statistics then
 * include the outliers, so teachers trained this way re-estimate them on their own samples (recalibrateBn).
 */
export function outlierExposureLoss(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor, outliers: tf.Tensor, weight: number): tf.Scalar {
  return tf.tidy(() => {
    const n = x.shape[0];
    const k = outliers.shape[0];
    const C = labels.shape[1]!;
    const logits = model.apply(tf.concat([x, outliers]), { training: true }) as tf.Tensor;
    const own = tf.losses.softmaxCrossEntropy(labels, tf.slice(logits, [0, 0], [n, C]));
    const uniform = tf.losses.softmaxCrossEntropy(tf.fill([k, C], 1 / C), tf.slice(logits, [n, 0], [k, C]));
    return tf.add(own, tf.mul(weight, uniform)) as tf.Scalar;
  });
}
