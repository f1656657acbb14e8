/**
 * Expected calibration error (Naeini et al. 2015; Guo et al. 2017, "On Calibration of Modern Neural
 * Networks"): bin samples by confidence (the max predicted probability) into equal-width bins over [0, 1],
 * then average |accuracy - mean confidence| per bin, weighted by the bin's share of samples. Distilled
 * students are often over-confident; this measures by how much.
 */
import { DataError } from '../data/dataset.js';
import { checkLabels } from '../data/labels.js';

/** One confidence bin: (lower, upper], count, and the bin's accuracy and mean confidence (NaN when empty). */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  accuracy: number;
  confidence: number;
}

/** Options for the calibration functions. */
export interface CalibrationOptions {
  /** Number of equal-width bins over [0, 1]; default 15, as in Guo et al. */
  bins?: number;
}

// Softmax outputs can exceed 1 by float rounding; anything beyond this is not a probability (logits?).
const TOLERANCE = 1e-5;

/**
 * Per-bin statistics. `probs` is row-major n x numClasses (e.g. `tensor.dataSync()`), with numClasses
 * inferred from its length and the number of labels. Bins are (lower, upper] as in Guo et al.'s reference
 * code (a confidence of exactly 0 goes to the first bin).
 */
export function calibrationBins(probs: ArrayLike<number>, labels: ArrayLike<number>, options: CalibrationOptions = {}): CalibrationBin[] {
  const bins = options.bins ?? 15;
  if (!Number.isInteger(bins) || bins < 1) throw new DataError('bad-argument', `calibration: bins must be an integer >= 1, got ${bins}`);
  const n = labels.length;
  if (n === 0) throw new DataError('bad-argument', 'calibration: no samples to score');
  const k = probs.length / n;
  if (!Number.isInteger(k) || k < 1) {
    throw new DataError('bad-argument', `calibration: ${probs.length} probabilities do not form ${n} rows of equal length`);
  }
  checkLabels(labels, k, 'labels');
  const count = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  const confSum = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 0; c < k; c++) {
      const p = probs[i * k + c];
      if (!(p >= -TOLERANCE && p <= 1 + TOLERANCE)) {
        throw new DataError('bad-argument', `calibration: row ${i} holds ${p}, not a probability (pass softmax outputs, not logits)`);
      }
      if (p > probs[i * k + best]) best = c;
    }
    const conf = Math.min(1, Math.max(0, probs[i * k + best]));
    let b = Math.max(0, Math.ceil(conf * bins) - 1);
    // conf * bins can round onto an edge (the double just above 11/15, times 15, is exactly 11); settle it
    // by comparing with the edges themselves.
    if (b > 0 && conf <= b / bins) b--;
    else if (b < bins - 1 && conf > (b + 1) / bins) b++;
    count[b]++;
    confSum[b] += conf;
    if (best === labels[i]) correct[b]++;
  }
  return count.map((c, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: c,
    accuracy: c === 0 ? NaN : correct[b] / c,
    confidence: c === 0 ? NaN : confSum[b] / c,
  }));
}

/** Expected calibration error in [0, 1]: sum over bins of (count / n) * |accuracy - confidence|. */
export function expectedCalibrationError(probs: ArrayLike<number>, labels: ArrayLike<number>, options: CalibrationOptions = {}): number {
  const n = labels.length;
  return calibrationBins(probs, labels, options).reduce(
    (ece, bin) => (bin.count === 0 ? ece : ece + (bin.count / n) * Math.abs(bin.accuracy - bin.confidence)),
    0,
  );
}
