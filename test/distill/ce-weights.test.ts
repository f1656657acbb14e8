/** The gradient query's per-device CE weights (ceSampleWeights) against hand-computed values. */
import { describe, expect, it } from 'vitest';
import { ceSampleWeights } from '../../coordinator/engine/ce-weights.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';

// Three classes; class 2 is held by nobody. Device 0 holds 30 of class 0 and none of class 1.
const histograms = [
  [30, 0, 0],
  [10, 40, 0],
];
const targets = Int32Array.from([0, 1, 2]);

describe('CE sample weights', () => {
  it('are each device share of the requested class, and alike for a class nobody holds', () => {
    const [d0, d1] = ceSampleWeights(histograms, targets);
    expect(Array.from(d0)).toEqual([0.75, 0, 0.5]);
    expect(Array.from(d1)).toEqual([0.25, 1, 0.5]);
  });

  it('with a floor, give every device at least floor / devices and still sum to 1 per sample', () => {
    const [d0, d1] = ceSampleWeights(histograms, targets, 0.4);
    // (1 - 0.4) * share + 0.4 / 2
    [0.65, 0.2, 0.5].forEach((w, i) => expect(d0[i]).toBeCloseTo(w, 6));
    [0.35, 0.8, 0.5].forEach((w, i) => expect(d1[i]).toBeCloseTo(w, 6));
    const [e0, e1] = ceSampleWeights(histograms, targets, 1);
    expect(Array.from(e0)).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(e1)).toEqual([0.5, 0.5, 0.5]);
  });

  it('ceFloor is validated and named in the error', () => {
    expect(parseDistillConfig({}).ceFloor).toBe(0);
    expect(parseDistillConfig({ ceFloor: 0.3 }).ceFloor).toBe(0.3);
    expect(() => parseDistillConfig({ ceFloor: 1.5 })).toThrow(/distill\.ceFloor: must be a number in \[0, 1\]/);
    expect(() => parseDistillConfig({ ceFloor: '0.2' })).toThrow(/distill\.ceFloor/);
  });
});
