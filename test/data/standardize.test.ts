import { describe, expect, it } from 'vitest';
import { loadBreastCancer } from '../../shared/data/breast-cancer.js';
import type { Dataset } from '../../shared/data/dataset.js';
import { stratifiedSplit } from '../../shared/data/split.js';
import { applyStandardization, fitStandardization, standardizeTrainTest } from '../../shared/data/standardize.js';

const table = (rows: number[][], name = 't'): Dataset => ({
  name,
  sampleShape: [rows[0].length],
  x: Float32Array.from(rows.flat()),
  y: new Int32Array(rows.length),
  numClasses: 1,
});

describe('standardization', () => {
  const train = table([[1, 5, 0.1], [3, 5, 0.1], [5, 5, 0.1]]);

  it('fits population mean and std, with scale 1 for constant features', () => {
    const s = fitStandardization(train);
    expect(Array.from(s.mean)).toEqual([3, 5, Math.fround(0.1)]);
    // std of 1, 3, 5 with ddof 0 is sqrt(8 / 3).
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(8 / 3), 6);
    expect(Array.from(s.scale.subarray(1))).toEqual([1, 1]);
  });

  it('applies the training statistics to both sets, leaving the inputs untouched', () => {
    const test = table([[7, 6, 0.1]]);
    const before = Float32Array.from(test.x);
    const out = standardizeTrainTest(train, test);
    const z = 2 / Math.sqrt(8 / 3);
    const expectRow = (x: Float32Array, want: number[]) => want.forEach((w, j) => expect(x[j]).toBeCloseTo(w, 5));
    expectRow(out.train.x, [-z, 0, 0, 0, 0, 0, z, 0, 0]);
    expectRow(out.test.x, [4 / Math.sqrt(8 / 3), 1, 0]);
    expect(test.x).toEqual(before);
    expect(out.test.y).toBe(test.y);
  });

  it('gives breast cancer training features mean 0 and std 1', () => {
    const { train: raw } = stratifiedSplit(loadBreastCancer(), { testFraction: 0.2, seed: 1 });
    const { train } = standardizeTrainTest(raw, raw);
    const n = train.y.length;
    for (let j = 0; j < 30; j++) {
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) sum += train.x[i * 30 + j];
      for (let i = 0; i < n; i++) sq += (train.x[i * 30 + j] - sum / n) ** 2;
      expect(Math.abs(sum / n)).toBeLessThan(1e-5);
      expect(Math.sqrt(sq / n)).toBeCloseTo(1, 4);
    }
  });

  it('rejects a feature-count mismatch and an empty training set', () => {
    const s = fitStandardization(train);
    expect(() => applyStandardization(s, table([[1, 2]], 'narrow'))).toThrow("statistics cover 3 features but 'narrow' has 2");
    const empty: Dataset = { ...train, name: 'none', x: new Float32Array(0), y: new Int32Array(0) };
    expect(() => fitStandardization(empty)).toThrow("dataset 'none' has no samples");
  });
});
