import { describe, expect, it } from 'vitest';
import { loadBreastCancer } from '../../shared/data/breast-cancer.js';
import { labelHistogram } from '../../shared/data/dataset.js';
import { loadDigits } from '../../shared/data/digits.js';
import { stratifiedSplit, stratifiedSplitIndices, stratifiedTestCounts } from '../../shared/data/split.js';
import { thrown } from './tmp.js';

const digits = loadDigits();

describe('stratifiedTestCounts', () => {
  it('shares round(n * f) out by largest remainder', () => {
    // ideal 3, 1.5, 0.9 -> floors 3, 1, 0; round(18 * 0.3) = 5 leaves one, which goes to the largest remainder (0.9).
    expect(stratifiedTestCounts([10, 5, 3], 0.3)).toEqual([3, 1, 1]);
    // Equal remainders: the lower class index wins, whatever the seed.
    expect(stratifiedTestCounts([5, 5], 0.5)).toEqual([3, 2]);
    expect(stratifiedTestCounts([4, 0, 6], 0.5)).toEqual([2, 0, 3]);
  });
});

describe('stratifiedSplitIndices', () => {
  const split = stratifiedSplitIndices(digits.y, 10, { testFraction: 0.2, seed: 7 });

  it('uses every index exactly once across train and test', () => {
    expect(split.test.length).toBe(Math.round(1797 * 0.2));
    const all = [...split.train, ...split.test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1797 }, (_, i) => i));
  });

  it('splits every class in the same proportion (within one sample)', () => {
    const full = labelHistogram(digits.y, 10);
    const test = labelHistogram(Array.from(split.test, (i) => digits.y[i]), 10);
    full.forEach((count, c) => expect(Math.abs(test[c] - count * 0.2)).toBeLessThan(1));
  });

  it('is deterministic in the seed and changes with it', () => {
    const again = stratifiedSplitIndices(digits.y, 10, { testFraction: 0.2, seed: 7 });
    expect(again.train).toEqual(split.train);
    expect(again.test).toEqual(split.test);
    const other = stratifiedSplitIndices(digits.y, 10, { testFraction: 0.2, seed: 8 });
    expect(other.test).not.toEqual(split.test);
  });

  it('mixes classes, so a prefix of the training indices is not one class', () => {
    const prefix = Array.from(split.train.subarray(0, 50), (i) => digits.y[i]);
    expect(new Set(prefix).size).toBeGreaterThan(5);
  });

  it('rejects bad fractions, seeds and labels, and empty sides', () => {
    for (const testFraction of [0, 1, -0.1, 1.5, NaN, Infinity]) {
      const e = thrown(() => stratifiedSplitIndices([0, 1, 0, 1], 2, { testFraction, seed: 1 }));
      expect(e.code).toBe('bad-argument');
      expect(e.message).toBe(`testFraction must be a number in (0, 1), got ${testFraction}`);
    }
    expect(() => stratifiedSplitIndices([0, 1], 2, { testFraction: 0.5, seed: 1.5 })).toThrow('seed must be an integer, got 1.5');
    expect(() => stratifiedSplitIndices([0, 2], 2, { testFraction: 0.5, seed: 1 })).toThrow('labels[1] = 2 is not an integer class in 0..1');
    expect(() => stratifiedSplitIndices([0, 1, 0], 2, { testFraction: 0.1, seed: 1 })).toThrow('leaves the test set empty');
    expect(() => stratifiedSplitIndices([0, 1, 0], 2, { testFraction: 0.9, seed: 1 })).toThrow('leaves the train set empty');
  });
});

describe('stratifiedSplit', () => {
  it('keeps the breast cancer class ratio and copies the right rows', () => {
    const d = loadBreastCancer();
    const { train, test, indices } = stratifiedSplit(d, { testFraction: 0.25, seed: 3 });
    expect(train.name).toBe('breast-cancer/train');
    expect(test.name).toBe('breast-cancer/test');
    expect(train.sampleShape).toEqual([30]);
    // 212 * 0.25 = 53 and 357 * 0.25 = 89.25: exact proportions, total round(142.25) = 142.
    expect(labelHistogram(test.y, 2)).toEqual([53, 89]);
    expect(labelHistogram(train.y, 2)).toEqual([159, 268]);
    const i = indices.test[5];
    expect(Array.from(test.x.subarray(5 * 30, 6 * 30))).toEqual(Array.from(d.x.subarray(i * 30, (i + 1) * 30)));
    expect(test.y[5]).toBe(d.y[i]);
  });
});
