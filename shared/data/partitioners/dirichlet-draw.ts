/** Dirichlet sampling and proportional cutting shared by the label-skew and quantity-skew schemes. */
import type { Random } from '../../random.js';
import { DataError } from '../dataset.js';
import { requireInteger } from '../labels.js';
import type { PartitionOptions } from './types.js';

/** Validates alpha (finite, > 0), minSamples (feasible for n samples) and maxAttempts. */
export function validateDirichletOptions(scheme: string, o: PartitionOptions, n: number): void {
  if (typeof o.alpha !== 'number' || !Number.isFinite(o.alpha) || o.alpha <= 0) {
    throw new DataError('bad-argument', `partition '${scheme}': alpha must be a finite number > 0, got ${String(o.alpha)}`);
  }
  if (o.minSamples !== undefined) {
    requireInteger(o.minSamples, `partition '${scheme}': minSamples`, 0);
    if (o.minSamples * o.devices > n) {
      throw new DataError(
        'bad-argument',
        `partition '${scheme}': minSamples ${o.minSamples} for each of ${o.devices} devices needs ${o.minSamples * o.devices} samples, but there are ${n}`,
      );
    }
  }
  if (o.maxAttempts !== undefined) requireInteger(o.maxAttempts, `partition '${scheme}': maxAttempts`, 1);
}

/** The default floor on device size: 10 as in FedML/NIID-Bench, lowered so small datasets stay feasible. */
export function defaultMinSamples(n: number, devices: number): number {
  return Math.max(1, Math.min(10, Math.floor(n / (2 * devices))));
}

/**
 * One draw from Dir(alpha, ..., alpha) over k entries, via normalized Gamma(alpha, 1) draws. For tiny
 * alpha every gamma can underflow to 0; Dir's limit as alpha -> 0 is a one-hot vector, so return one.
 */
export function drawDirichlet(rng: Random, alpha: number, k: number): number[] {
  const g = Array.from({ length: k }, () => rng.gamma(alpha));
  const sum = g.reduce((a, b) => a + b, 0);
  if (!(sum > 0) || !Number.isFinite(sum)) {
    const hot = rng.int(k);
    return g.map((_, i) => (i === hot ? 1 : 0));
  }
  return g.map((v) => v / sum);
}

/**
 * Cuts `items` into consecutive pieces with sizes proportional to `weights` (which need not sum to 1),
 * using floor(cumsum * n) cut points as numpy.split does in the FedML/FedDF code.
 */
export function cutByProportions<T>(items: T[], weights: number[]): T[][] {
  const total = weights.reduce((a, b) => a + b, 0);
  const pieces: T[][] = [];
  let start = 0;
  let acc = 0;
  weights.forEach((w, i) => {
    acc += w;
    const end = i === weights.length - 1 ? items.length : Math.min(items.length, Math.max(start, Math.floor((acc / total) * items.length)));
    pieces.push(items.slice(start, end));
    start = end;
  });
  return pieces;
}

/** The message for a draw loop that never met minSamples. */
export function minSamplesError(scheme: string, o: PartitionOptions, minSamples: number, attempts: number): DataError {
  return new DataError(
    'bad-argument',
    `partition '${scheme}': no draw in ${attempts} attempts gave all ${o.devices} devices at least ${minSamples} samples ` +
      `(alpha ${o.alpha}); raise alpha, use fewer devices, or lower minSamples`,
  );
}
