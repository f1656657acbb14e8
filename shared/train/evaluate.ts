/** Full evaluation of a classifier on a dataset: accuracy, per-class accuracy, confusion matrix, ECE. */
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { accuracy, argmaxRows, confusionMatrix, expectedCalibrationError, perClassAccuracy } from '../metrics/index.js';
import { predictLogits } from './batches.js';
import { softmaxRows } from '../math/softmax.js';

export interface Evaluation {
  accuracy: number;
  perClassAccuracy: number[];
  confusion: number[][];
  /** Expected calibration error, 15 equal-width bins (Guo et al. 2017). */
  ece: number;
  samples: number;
}

export function evaluate(model: tf.LayersModel, d: Dataset): Evaluation {
  const logits = predictLogits(model, d);
  const predicted = argmaxRows(logits, d.numClasses);
  return {
    accuracy: accuracy(predicted, d.y),
    perClassAccuracy: perClassAccuracy(predicted, d.y, d.numClasses),
    confusion: confusionMatrix(predicted, d.y, d.numClasses),
    ece: expectedCalibrationError(softmaxRows(logits, d.numClasses), d.y),
    samples: d.y.length,
  };
}

/** A readable multi-line summary (accuracy, ECE, per-class accuracy with class names). */
export function formatEvaluation(e: Evaluation, classNames?: string[]): string {
  const pct = (v: number) => (Number.isNaN(v) ? '   n/a' : `${(v * 100).toFixed(1).padStart(5)}%`);
  const lines = [`accuracy ${(e.accuracy * 100).toFixed(2)}% on ${e.samples} test samples, ECE ${e.ece.toFixed(4)}`, 'per class:'];
  e.perClassAccuracy.forEach((a, c) => lines.push(`  ${(classNames?.[c] ?? String(c)).padEnd(12)} ${pct(a)}`));
  return lines.join('\n');
}
