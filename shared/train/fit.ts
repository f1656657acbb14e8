/**
 * A seeded supervised fit loop: shuffled mini-batches from a seeded source, Adam, softmax cross-entropy on
 * logits, and early stopping on a validation slice that restores the best weights. model.fit is not used
 * because its shuffling draws from Math.random and cannot be reproduced.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../random.js';
import { sampleCount, type Dataset } from '../data/dataset.js';
import { adversarialInputs } from './adversarial.js';
import { augmentBatch, type TrainingAugmentation } from './augment.js';
import { mixupBatch } from './mixup.js';
import { checkOutlierShape, outlierBatch, outlierExposureLoss } from './outliers.js';
import { allRows, batchTensor, predictLogits } from './batches.js';
import { accuracy, argmaxRows } from '../metrics/index.js';

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /** Held-out rows for early stopping; without it the loop runs all epochs. */
  validation?: Dataset;
  /** Epochs without a validation-accuracy gain before stopping (default 3). */
  patience?: number;
  /** Called after each epoch, e.g. to print progress. */
  onEpoch?: (e: EpochReport) => void;
  /** Called every `progressEvery` batches within an epoch. */
  onBatch?: (batch: number, batches: number, loss: number) => void;
  progressEvery?: number;
  /** Per-batch augmentation of the inputs (shared/train/augment.ts); absent: none. */
  augment?: TrainingAugmentation;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  valAccuracy?: number;
  seconds: number;
}

export interface FitResult {
  epochs: EpochReport[];
  bestEpoch: number;
  bestValAccuracy?: number;
  stoppedEarly: boolean;
  seconds: number;
}

export function accuracyOf(model: tf.LayersModel, d: Dataset): number {
  const logits = predictLogits(model, d);
  return accuracy(argmaxRows(logits, d.numClasses), d.y);
}

function validateOptions(o: FitOptions, train: Dataset): void {
  const bad = (field: string, why: string) => {
    throw new Error(`fit: ${field} ${why}`);
  };
  if (!Number.isInteger(o.epochs) || o.epochs < 1) bad('epochs', `must be a positive integer, got ${o.epochs}`);
  if (o.batchSize !== undefined && (!Number.isInteger(o.batchSize) || o.batchSize < 1)) bad('batchSize', `must be a positive integer, got ${o.batchSize}`);
  if (o.learningRate !== undefined && !(o.learningRate > 0)) bad('learningRate', `must be > 0, got ${o.learningRate}`);
  if (sampleCount(train) === 0) bad('train', 'has no samples');
}

export async function fit(model: tf.LayersModel, train: Dataset, options: FitOptions): Promise<FitResult> {
  validateOptions(options, train);
  const batchSize = options.batchSize ?? 64;
  const patience = options.patience ?? 3;
  const outliers = options.augment?.outliers;
  if (outliers) checkOutlierShape(train.sampleShape);
  const rng = seededRandom(options.seed ?? 1);
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const n = sampleCount(train);
  const order = allRows(n);
  const batches = Math.ceil(n / batchSize);
  const started = performance.now();
  const epochs: EpochReport[] = [];
  let best: { epoch: number; acc: number; weights: tf.Tensor[] } | undefined;
  let stoppedEarly = false;

  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    const epochStart = performance.now();
    rng.shuffle(order);
    let lossSum = 0;
    for (let b = 0; b < batches; b++) {
      const start = b * batchSize;
      const end = Math.min(n, start + batchSize);
      const loss = tf.tidy(() => {
        const clean = batchTensor(train, order, start, end);
        const augmented = options.augment ? augmentBatch(clean, options.augment, rng) : clean;
        const oneHot = tf.oneHot(tf.tensor1d(Array.from(order.subarray(start, end), (i) => train.y[i]), 'int32'), train.numClasses);
        const mixed = options.augment?.mixup ? mixupBatch(augmented, oneHot, options.augment.mixup, rng) : { x: augmented, labels: oneHot };
        const labels = mixed.labels;
        const epsilon = options.augment?.adversarial;
        const x = epsilon ? adversarialInputs(model, mixed.x, labels, epsilon, rng) : mixed.x;
        if (outliers) {
          const shown = outlierBatch(rng, end - start, train.sampleShape);
          return optimizer.minimize(() => outlierExposureLoss(model, x, labels, shown, outliers), true)!;
        }
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
      });
      const value = (await loss.data())[0];
      loss.dispose();
      if (!Number.isFinite(value)) throw new Error(`fit: loss became ${value} at epoch ${epoch}, batch ${b + 1}; lower the learning rate`);
      lossSum += value * (end - start);
      if (options.onBatch && options.progressEvery && (b + 1) % options.progressEvery === 0) options.onBatch(b + 1, batches, value);
    }
    const report: EpochReport = { epoch, loss: lossSum / n, seconds: (performance.now() - epochStart) / 1000 };
    if (options.validation) report.valAccuracy = accuracyOf(model, options.validation);
    epochs.push(report);
    options.onEpoch?.(report);
    if (options.validation) {
      if (!best || report.valAccuracy! > best.acc) {
        best?.weights.forEach((w) => w.dispose());
        best = { epoch, acc: report.valAccuracy!, weights: model.getWeights().map((w) => w.clone()) };
      } else if (epoch - best.epoch >= patience) {
        stoppedEarly = true;
        break;
      }
    }
  }
  if (best) {
    model.setWeights(best.weights);
    best.weights.forEach((w) => w.dispose());
  }
  optimizer.dispose();
  return {
    epochs,
    bestEpoch: best?.epoch ?? epochs.length,
    bestValAccuracy: best?.acc,
    stoppedEarly,
    seconds: (performance.now() - started) / 1000,
  };
}
