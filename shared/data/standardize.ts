/**
 * Per-feature standardization (z-scores) for tabular data such as the breast cancer features, whose raw
 * scales run from 1e-3 (fractal dimension SE) to 4e3 (worst area) and would otherwise swamp an MLP's
 * first layer. Statistics come from the training set only, so nothing about the test set leaks in.
 */
import { DataError, featureCount, type Dataset } from './dataset.js';

/** Per-feature mean and the scale divided by (population std, or 1 for a constant feature). */
export interface Standardization {
  mean: Float32Array;
  scale: Float32Array;
}

// Float32 inputs cannot carry relative variation below ~6e-8, so a spread under this fraction of the
// feature's magnitude is rounding noise, not signal; dividing by it would blow noise up to unit variance.
const ZERO_VARIANCE_RELATIVE = 1e-7;

/**
 * Fits mean and population standard deviation (ddof = 0, as scikit-learn's StandardScaler) per feature.
 * Zero-variance features get scale 1, so they map to 0 on the training set instead of NaN.
 */
export function fitStandardization(train: Dataset): Standardization {
  const f = featureCount(train);
  const n = train.y.length;
  if (n === 0) throw new DataError('bad-argument', `fitStandardization: dataset '${train.name}' has no samples`);
  const mean = new Float64Array(f);
  const maxAbs = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) {
      const v = train.x[i * f + j];
      mean[j] += v;
      maxAbs[j] = Math.max(maxAbs[j], Math.abs(v));
    }
  }
  for (let j = 0; j < f; j++) mean[j] /= n;
  // Two passes (mean first, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
  const variance = new Float64Array(f);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) variance[j] += (train.x[i * f + j] - mean[j]) ** 2;
  }
  const scale = new Float32Array(f);
  for (let j = 0; j < f; j++) {
    const std = Math.sqrt(variance[j] / n);
    scale[j] = std <= ZERO_VARIANCE_RELATIVE * maxAbs[j] ? 1 : std;
  }
  return { mean: Float32Array.from(mean), scale };
}

/** A copy of `d` with every feature mapped to (x - mean) / scale. */
export function applyStandardization(stats: Standardization, d: Dataset): Dataset {
  const f = featureCount(d);
  if (stats.mean.length !== f || stats.scale.length !== f) {
    throw new DataError('bad-argument', `applyStandardization: statistics cover ${stats.mean.length} features but '${d.name}' has ${f}`);
  }
  const x = new Float32Array(d.x.length);
  for (let i = 0; i < x.length; i++) {
    const j = i % f;
    x[i] = (d.x[i] - stats.mean[j]) / stats.scale[j];
  }
  return { ...d, x };
}

/** Fits on `train` and applies the same statistics to both sets; returns them for later inference. */
export function standardizeTrainTest(train: Dataset, test: Dataset): { train: Dataset; test: Dataset; stats: Standardization } {
  const stats = fitStandardization(train);
  return { train: applyStandardization(stats, train), test: applyStandardization(stats, test), stats };
}
