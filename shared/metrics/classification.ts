/**
 * Classification metrics over predicted and true class indices. Pure functions over plain arrays, so the
 * training loop, the coordinator and the benchmarks all compute them the same way (after argmaxRows on
 * model outputs where needed). Bad inputs throw DataError('bad-argument') naming the problem.
 */
import { DataError } from '../data/dataset.js';

/**
 * Checks predictions and labels are equally long, non-empty arrays of class indices: integers in
 * [0, numClasses), or just integers >= 0 when numClasses is omitted.
 */
export function checkPredictions(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses?: number): void {
  if (predicted.length !== labels.length) {
    throw new DataError('bad-argument', `${predicted.length} predictions for ${labels.length} labels`);
  }
  if (labels.length === 0) throw new DataError('bad-argument', 'no samples to score');
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new DataError('bad-argument', `numClasses must be an integer >= 1, got ${numClasses}`);
  }
  const limit = numClasses ?? Infinity;
  for (const [what, a] of [['labels', labels], ['predicted', predicted]] as const) {
    for (let i = 0; i < a.length; i++) {
      if (!Number.isInteger(a[i]) || a[i] < 0 || a[i] >= limit) {
        const range = numClasses === undefined ? 'a class index >= 0' : `an integer class in 0..${limit - 1}`;
        throw new DataError('bad-argument', `${what}[${i}] = ${a[i]} is not ${range}`);
      }
    }
  }
}

/** Fraction of samples whose predicted class equals the label, in [0, 1]. */
export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkPredictions(predicted, labels);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / labels.length;
}

/**
 * counts[t][p]: how many samples of true class t were predicted as p (rows true, columns predicted, as in
 * scikit-learn). Rows of classes absent from the labels are all zero.
 */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number[][] {
  checkPredictions(predicted, labels, numClasses);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]][predicted[i]]++;
  return m;
}

/**
 * Accuracy within each true class (per-class recall), length numClasses. A class with no samples in
 * `labels` has no defined accuracy and gets NaN, so it cannot pass for 0% or 100%.
 */
export function perClassAccuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number[] {
  return confusionMatrix(predicted, labels, numClasses).map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? NaN : row[c] / total;
  });
}

/**
 * Index of the largest value in each row of a row-major n x numClasses array (first one on ties, as
 * tf.argMax). Turns softmax outputs from `tensor.dataSync()` into predicted classes.
 */
export function argmaxRows(values: ArrayLike<number>, numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1 || values.length % numClasses !== 0) {
    throw new DataError('bad-argument', `argmaxRows: ${values.length} values do not form rows of ${numClasses} classes`);
  }
  const out = new Int32Array(values.length / numClasses);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (values[r * numClasses + c] > values[r * numClasses + best]) best = c;
    out[r] = best;
  }
  return out;
}
