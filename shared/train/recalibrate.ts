/**
 * Batch-norm recalibration: re-estimates a model's BN moving statistics on clean data after training.
 *
 * A model trained on augmented batches (shared/train/augment.ts; Gaussian noise above all) keeps moving means
 * and variances of the augmented inputs, so on clean inputs every BN layer is off-centre. Two things suffer: the
 * model's own accuracy, and data-free distillation, whose BN-statistics term (DeepInversion) pulls synthetic
 * samples toward whatever the moving statistics describe — noisy images, for a noise-trained teacher.
 * Re-estimating the statistics on the device's own clean samples fixes both without touching a trained weight.
 */
import * as tf from '@tensorflow/tfjs';
import { sampleCount, type Dataset } from '../data/dataset.js';
import { allRows, batchTensor } from './batches.js';

interface BatchNormLayer {
  momentum: number;
}

function batchNormLayers(model: tf.LayersModel): (tf.layers.Layer & BatchNormLayer)[] {
  return model.layers.filter((l) => l.getClassName() === 'BatchNormalization') as (tf.layers.Layer & BatchNormLayer)[];
}

/**
 * Sets every BN layer's moving mean and variance to the average, over `data` in batches of `batchSize`, of
 * the batch statistics the layer computes in training mode (the cumulative average of PyTorch's
 * `momentum=None`). Trainable weights are untouched. Returns the number of BN layers recalibrated (0: the
 * model has none and nothing ran).
 */
export function recalibrateBatchNorm(model: tf.LayersModel, data: Dataset, batchSize = 256): number {
  const layers = batchNormLayers(model);
  const n = sampleCount(data);
  if (layers.length === 0 || n === 0) return 0;
  if (!Number.isInteger(batchSize) || batchSize < 2) throw new Error(`recalibrateBatchNorm: batchSize must be an integer >= 2, got ${batchSize}`);
  const momenta = layers.map((l) => l.momentum);
  const rows = allRows(n);
  try {
    // A batch of one has no variance; fold a short last batch into the one before it.
    const starts: number[] = [];
    for (let s = 0; s < n; s += batchSize) starts.push(s);
    if (starts.length > 1 && n - starts[starts.length - 1] < 2) starts.pop();
    starts.forEach((start, k) => {
      const end = k === starts.length - 1 ? n : start + batchSize;
      // TF.js moves a statistic by (1 - momentum) of the gap to the batch's value: 1/(k+1) makes the
      // result the running average of the first k+1 batches.
      for (const l of layers) l.momentum = k / (k + 1);
      tf.tidy(() => {
        model.apply(batchTensor(data, rows, start, end), { training: true });
      });
    });
  } finally {
    layers.forEach((l, i) => (l.momentum = momenta[i]));
  }
  return layers.length;
}

/** The `recalibrateBn` setting of a training config: absent or a boolean; true, or undefined when off. */
export function parseRecalibrateBn(raw: unknown, path: string): true | undefined {
  if (raw !== undefined && typeof raw !== 'boolean') throw new Error(`${path}: must be true or false, got ${JSON.stringify(raw)}`);
  return raw === true ? true : undefined;
}
