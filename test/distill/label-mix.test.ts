/** Two-class label mixtures for the generator: the soft targets, the devices' CE weights, and the settings. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../shared/random.js';
import { mixTargets, softTargetWeights } from '../../coordinator/engine/label-mix.js';
import { ceSampleWeights } from '../../coordinator/engine/ce-weights.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';

const C = 4;
const rowsOf = (values: Float32Array) => Array.from({ length: values.length / C }, (_, i) => Array.from(values.subarray(i * C, (i + 1) * C)));

describe('label mixtures', () => {
  it('keeps the requested class on top and mixes about the asked share with one other class', () => {
    const targets = Int32Array.from({ length: 2000 }, (_, i) => i % C);
    const rows = rowsOf(mixTargets(targets, C, 0.5, seededRandom(4)));
    let mixed = 0;
    rows.forEach((row, i) => {
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(Math.max(...row)).toBe(row[targets[i]]);
      const nonZero = row.filter((v) => v > 0);
      expect(nonZero.length === 1 || nonZero.length === 2).toBe(true);
      if (nonZero.length === 2) {
        mixed++;
        expect(row[targets[i]]).toBeGreaterThanOrEqual(0.5);
      }
    });
    // Binomial(2000, 0.5): 1000 ± 22 (one standard deviation).
    expect(mixed).toBeGreaterThan(900);
    expect(mixed).toBeLessThan(1100);
    // Every other class is a partner now and then.
    const partners = new Set(rows.flatMap((row, i) => row.map((v, c) => (v > 0 && c !== targets[i] ? `${targets[i]}-${c}` : '')).filter(Boolean)));
    expect(partners.size).toBe(C * (C - 1));
  });

  it('with share 0 gives one-hot rows and draws nothing from the random stream', () => {
    const rng = seededRandom(9);
    const before = seededRandom(9).next();
    expect(rowsOf(mixTargets(Int32Array.from([2, 0]), C, 0, rng))).toEqual([[0, 0, 1, 0], [1, 0, 0, 0]]);
    expect(rng.next()).toBe(before);
    expect(() => mixTargets(Int32Array.from([0]), C, 1.5, rng)).toThrow(/labelMix: share must be in \[0, 1\], got 1.5/);
  });

  it("gives each device its class share of each soft target, as ceSampleWeights does for one-hot rows", () => {
    // Device 0 holds classes 0 and 1, device 1 classes 1 and 2; nobody holds class 3 (1/D each).
    const histograms = [[30, 10, 0, 0], [0, 30, 20, 0]];
    const soft = Float32Array.from([0.75, 0.25, 0, 0, /* */ 0, 0, 1, 0, /* */ 0, 0.5, 0, 0.5]);
    const [d0, d1] = softTargetWeights(histograms, soft).map(rowsOf);
    expect(d0[0][0]).toBeCloseTo(0.75, 6);
    expect(d0[0][1]).toBeCloseTo(0.25 * 0.25, 6);
    expect(d1[0][1]).toBeCloseTo(0.25 * 0.75, 6);
    expect(d0[1]).toEqual([0, 0, 0, 0]);
    expect(d1[1][2]).toBeCloseTo(1, 6);
    expect(d0[2][3]).toBeCloseTo(0.25, 6);
    expect(d1[2][3]).toBeCloseTo(0.25, 6);
    // Summed over devices every row is the soft target; with a floor, too.
    for (const floor of [0, 0.5]) {
      const perDevice = softTargetWeights(histograms, soft, floor);
      soft.forEach((t, k) => expect(perDevice[0][k] + perDevice[1][k]).toBeCloseTo(t, 6));
      // One-hot rows carry exactly ceSampleWeights' weight on the requested class.
      const oneHot = ceSampleWeights(histograms, Int32Array.from([2]), floor);
      expect(perDevice[0][1 * C + 2]).toBeCloseTo(oneHot[0][0], 6);
      expect(perDevice[1][1 * C + 2]).toBeCloseTo(oneHot[1][0], 6);
    }
    expect(() => softTargetWeights(histograms, new Float32Array(5))).toThrow(/softTargetWeights: 5 target values for 4 classes/);
  });

  it('is off by default and validated with the field named', () => {
    expect(parseDistillConfig({}).labelMix).toBe(0);
    expect(parseDistillConfig({ labelMix: 0.5 }).labelMix).toBe(0.5);
    expect(() => parseDistillConfig({ labelMix: 2 })).toThrow(/distill.labelMix: must be a number in \[0, 1\]/);
    expect(() => parseDistillConfig({ labelMix: 0.5, generatorCe: 'ensemble' })).toThrow(/distill.labelMix: cannot be combined with generatorCe 'ensemble'/);
  });
});
