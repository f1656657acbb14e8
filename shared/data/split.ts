/**
 * Deterministic stratified train/test split for datasets that ship without one (digits, breast cancer).
 * Every class is split in the same proportion, so a 20% test set of an imbalanced medical dataset keeps
 * its 37/63 malignant/benign ratio instead of drifting with the luck of the shuffle.
 */
import { seededRandom } from '../random.js';
import { DataError, subset, type Dataset } from './dataset.js';
import { checkLabels, indicesByClass, requireSeed } from './labels.js';

export interface SplitOptions {
  /** Fraction of samples that go to the test set, in (0, 1). */
  testFraction: number;
  /** Seed for seededRandom; the same seed and labels always give the same split. */
  seed: number;
}

/** Sample indices of each side, each in a seeded random order (so any prefix is itself a random sample). */
export interface IndexSplit {
  train: Int32Array;
  test: Int32Array;
}

/**
 * How many test samples each class gets: round(n * testFraction) in total, shared out by the largest
 * remainder method, so every class is within one sample of its exact proportion and the total is exact.
 */
export function stratifiedTestCounts(classSizes: number[], testFraction: number): number[] {
  const n = classSizes.reduce((a, b) => a + b, 0);
  const total = Math.round(n * testFraction);
  const ideal = classSizes.map((s) => s * testFraction);
  const counts = ideal.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  // Ties go to the lower class index, which keeps the result independent of the seed.
  const order = ideal.map((q, c) => ({ c, frac: q - Math.floor(q) })).sort((a, b) => b.frac - a.frac || a.c - b.c);
  for (const { c } of order) {
    if (left <= 0) break;
    if (counts[c] < classSizes[c]) {
      counts[c]++;
      left--;
    }
  }
  return counts;
}

/** Stratified split of `labels` (integers in [0, numClasses)) into train and test index arrays. */
export function stratifiedSplitIndices(labels: ArrayLike<number>, numClasses: number, options: SplitOptions): IndexSplit {
  const { testFraction, seed } = options;
  if (!Number.isFinite(testFraction) || testFraction <= 0 || testFraction >= 1) {
    throw new DataError('bad-argument', `testFraction must be a number in (0, 1), got ${testFraction}`);
  }
  requireSeed(seed);
  checkLabels(labels, numClasses);
  const n = labels.length;
  const nTest = Math.round(n * testFraction);
  if (nTest < 1 || nTest > n - 1) {
    throw new DataError('bad-argument', `testFraction ${testFraction} of ${n} samples leaves ${nTest === 0 ? 'the test' : 'the train'} set empty`);
  }
  const rng = seededRandom(seed);
  const groups = indicesByClass(labels, numClasses);
  const testCounts = stratifiedTestCounts(groups.map((g) => g.length), testFraction);
  const train: number[] = [];
  const test: number[] = [];
  groups.forEach((group, c) => {
    rng.shuffle(group);
    test.push(...group.slice(0, testCounts[c]));
    train.push(...group.slice(testCounts[c]));
  });
  // Shuffle across classes too: a caller slicing off a validation prefix must not get one class only.
  return { train: rng.shuffle(Int32Array.from(train)), test: rng.shuffle(Int32Array.from(test)) };
}

/** A split dataset: `name/train` and `name/test`, plus the indices into the original. */
export interface DatasetSplit {
  train: Dataset;
  test: Dataset;
  indices: IndexSplit;
}

/** Stratified, seeded train/test split of a whole dataset. */
export function stratifiedSplit(d: Dataset, options: SplitOptions): DatasetSplit {
  const indices = stratifiedSplitIndices(d.y, d.numClasses, options);
  return {
    train: subset(d, indices.train, `${d.name}/train`),
    test: subset(d, indices.test, `${d.name}/test`),
    indices,
  };
}
