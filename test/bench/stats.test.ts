/** The bench scripts' statistics against hand-computed and published references. */
import { describe, expect, it } from 'vitest';
import { averageRanks, meanKl, meanStd, median, spearman } from '../../bench/stats.js';

describe('bench statistics', () => {
  it('ranks ties at the mean of the ranks they span', () => {
    expect(averageRanks([10, 30, 20])).toEqual([0, 2, 1]);
    expect(averageRanks([5, 1, 5, 5, 0])).toEqual([3, 1, 3, 3, 0]);
  });

  it("Spearman's rho: ±1 for monotone lists, and scipy's reference with a tie", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 25, 100])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) (its documentation's example): 0.8207826816681233.
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 12);
    expect(() => spearman([1, 2], [1])).toThrow(/same length/);
  });

  it('mean KL over rows, by hand', () => {
    const p = Float32Array.from([0.5, 0.5, 1, 0]);
    const q = Float32Array.from([0.25, 0.75, 0.5, 0.5]);
    const row1 = 0.5 * Math.log(0.5 / 0.25) + 0.5 * Math.log(0.5 / 0.75);
    const row2 = Math.log(1 / 0.5);
    expect(meanKl(p, q, 2)).toBeCloseTo((row1 + row2) / 2, 6);
    expect(meanKl(p, p, 2)).toBe(0);
  });

  it('mean ± sample std, as percentages or as ratios rounded once', () => {
    // (0.8 + 0.9 + 1.0) / 3 = 0.9, sample std 0.1.
    expect(meanStd([0.8, 0.9, 1.0])).toBe('90.00 ± 10.00');
    expect(meanStd([0.5])).toBe('50.00 ± 0.00');
    expect(meanStd([])).toBe('n/a');
    // The 10-round cooldown's student / ensemble ratios: mean 0.958549…, std 0.008876…. Rounding to a
    // percentage first (95.85) and then to 3 digits read 0.958.
    const ratios = [0.8709 / 0.8997, 0.8522 / 0.8967, 0.8561 / 0.8943];
    expect(meanStd(ratios, 1, 3)).toBe('0.959 ± 0.009');
  });
});

describe('median', () => {
  it('is the middle of the sorted values, the upper middle for an even count, and leaves its input unsorted', () => {
    const xs = [5, 1, 4, 2, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([7])).toBe(7);
  });
});
