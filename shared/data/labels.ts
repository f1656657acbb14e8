/** Argument checks shared by the split, partition and metric utilities. */
import { DataError } from './dataset.js';

/** Throws DataError('bad-argument') unless `value` is an integer >= `min`; `what` names it in the message. */
export function requireInteger(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new DataError('bad-argument', `${what} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Throws DataError('bad-argument') unless `seed` is a safe integer (seededRandom keeps its low 32 bits). */
export function requireSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new DataError('bad-argument', `seed must be an integer, got ${String(seed)}`);
  }
  return seed;
}

/** Throws DataError('bad-argument') at the first label that is not an integer in [0, numClasses). */
export function checkLabels(labels: ArrayLike<number>, numClasses: number, what = 'labels'): void {
  requireInteger(numClasses, 'numClasses', 1);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new DataError('bad-argument', `${what}[${i}] = ${v} is not an integer class in 0..${numClasses - 1}`);
    }
  }
}

/** Sample indices grouped by label, each group in ascending order. Labels must already be checked. */
export function indicesByClass(labels: ArrayLike<number>, numClasses: number): number[][] {
  const groups: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) groups[labels[i]].push(i);
  return groups;
}
