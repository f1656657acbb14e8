/**
 * Named data sets with their train/test split, from one explicit list. Fashion-MNIST ships a split;
 * digits and breast cancer get a seeded stratified 25% test split, and tabular features are
 * standardized on the training side only (the test set never leaks into the statistics).
 */
import { DataError, type Dataset } from './dataset.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadDigits } from './digits.js';
import { loadBreastCancer } from './breast-cancer.js';
import { stratifiedSplit } from './split.js';
import { standardizeTrainTest } from './standardize.js';

export interface TrainTest {
  train: Dataset;
  test: Dataset;
}

export interface LoadOptions {
  /** Seed of the train/test split for data sets without one. */
  splitSeed?: number;
  /** Keep only the first n training and n/6 test samples (quick experiments). */
  limit?: number;
}

const TEST_FRACTION = 0.25;

function limited(tt: TrainTest, limit?: number): TrainTest {
  if (!limit) return tt;
  const cut = (d: Dataset, n: number): Dataset => {
    const k = Math.min(n, d.y.length);
    const f = d.x.length / d.y.length;
    return { ...d, x: d.x.slice(0, k * f), y: d.y.slice(0, k) };
  };
  return { train: cut(tt.train, limit), test: cut(tt.test, Math.max(1, Math.ceil(limit / 6))) };
}

const LOADERS: Record<string, (o: LoadOptions) => TrainTest> = {
  'fashion-mnist': (o) => ({
    train: loadFashionMnist('train', { limit: o.limit }),
    test: loadFashionMnist('test', { limit: o.limit ? Math.ceil(o.limit / 6) : undefined }),
  }),
  digits: (o) => limited(stratifiedSplit(loadDigits(), { testFraction: TEST_FRACTION, seed: o.splitSeed ?? 0 }), o.limit),
  'breast-cancer': (o) => {
    const split = stratifiedSplit(loadBreastCancer(), { testFraction: TEST_FRACTION, seed: o.splitSeed ?? 0 });
    const { train, test } = standardizeTrainTest(split.train, split.test);
    return limited({ train, test }, o.limit);
  },
};

export const DATASET_NAMES = Object.keys(LOADERS);

/** Loads a named data set's train and test sides; unknown names throw listing the valid ones. */
export function loadDataset(name: string, options: LoadOptions = {}): TrainTest {
  const loader = Object.hasOwn(LOADERS, name) ? LOADERS[name] : undefined;
  if (!loader) throw new DataError('bad-argument', `unknown dataset ${JSON.stringify(name)}; use one of ${DATASET_NAMES.join(', ')}`);
  return loader(options);
}
