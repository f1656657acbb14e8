/**
 * Robust strategies against a few faulty or poisoned devices: coordinate-wise trimmed mean and median of
 * the devices' log-probabilities at tau (Yin et al., ICML 2018), renormalised into a distribution.
 * Log-probabilities, not raw logits, because each device's logits carry an arbitrary per-row offset.
 */
import { logSoftmaxRows, softmaxRows } from '../../math/softmax.js';
import { batchSize, type Aggregator, type AggregationInput } from './types.js';

function coordinateWise(input: AggregationInput, reduce: (sorted: Float64Array) => number): Float32Array {
  batchSize(input);
  const C = input.numClasses;
  const lps = input.logits.map((l) => logSoftmaxRows(l, C, input.tau));
  const combined = new Float32Array(lps[0].length);
  const column = new Float64Array(lps.length);
  for (let i = 0; i < combined.length; i++) {
    for (let d = 0; d < lps.length; d++) column[d] = lps[d][i];
    column.sort();
    combined[i] = reduce(column);
  }
  return softmaxRows(combined, C, 1);
}

export const trimmedMean: Aggregator = (input) => {
  const trim = input.trim ?? 0.2;
  if (!(trim >= 0 && trim < 0.5)) throw new Error(`trimmed-mean: trim must be in [0, 0.5), got ${trim}`);
  return coordinateWise(input, (s) => {
    const k = Math.floor(trim * s.length);
    let sum = 0;
    for (let i = k; i < s.length - k; i++) sum += s[i];
    return sum / (s.length - 2 * k);
  });
};

export const median: Aggregator = (input) =>
  coordinateWise(input, (s) => {
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  });
