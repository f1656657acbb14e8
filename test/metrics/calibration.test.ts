import { describe, expect, it } from 'vitest';
import { calibrationBins, expectedCalibrationError } from '../../shared/metrics/index.js';

describe('expected calibration error against hand-computed values', () => {
  // Two classes, rows [p0, p1]. Confidences 0.9 (right), 0.8 (wrong), 0.7 (right), 0.6 (right).
  const probs = [0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.6, 0.4];
  const labels = [0, 1, 1, 0];

  it('5 bins: |1 - 0.9| / 4 + |0.5 - 0.75| * 2 / 4 + |1 - 0.6| / 4 = 0.25', () => {
    // Bins are (lower, upper]: 0.8 sits in (0.6, 0.8] with 0.7, and 0.6 in (0.4, 0.6].
    const bins = calibrationBins(probs, labels, { bins: 5 });
    expect(bins.map((b) => b.count)).toEqual([0, 0, 1, 2, 1]);
    expect(bins[3].accuracy).toBe(0.5);
    expect(bins[3].confidence).toBeCloseTo(0.75, 12);
    expect(bins[0].accuracy).toBeNaN();
    expect(expectedCalibrationError(probs, labels, { bins: 5 })).toBeCloseTo(0.25, 12);
  });

  it('defaults to 15 bins: 0.9 and 0.8 and 0.7 and 0.6 each get their own bin', () => {
    const bins = calibrationBins(probs, labels);
    expect(bins.length).toBe(15);
    expect(bins[14].upper).toBe(1);
    // |1-0.9| + |0-0.8| + |1-0.7| + |1-0.6| = 1.6, over 4 samples.
    expect(expectedCalibrationError(probs, labels)).toBeCloseTo(0.4, 12);
  });

  it('bins by comparison with the edges, not by a rounded conf * bins', () => {
    // 11/15 is an edge; the next double above it belongs to (11/15, 12/15], yet conf * 15 rounds to exactly 11.
    const above = 0.7333333333333334;
    expect(above).toBeGreaterThan(11 / 15);
    expect(above * 15).toBe(11);
    expect(calibrationBins([above, 1 - above], [0]).findIndex((b) => b.count === 1)).toBe(11);
    expect(calibrationBins([11 / 15, 4 / 15], [0]).findIndex((b) => b.count === 1)).toBe(10);
  });

  it('is 0 for a perfectly calibrated model and 1 for a confidently wrong one', () => {
    expect(expectedCalibrationError([1, 0, 0, 1], [0, 1])).toBe(0);
    expect(expectedCalibrationError(Float32Array.from([1, 0, 0, 1]), [1, 0])).toBe(1);
  });

  it('scores classes absent from the labels like any other prediction', () => {
    // Three classes, labels only 0 and 1; row 2 predicts the absent class 2 at 0.5 confidence (wrong).
    const ece = expectedCalibrationError([0.7, 0.2, 0.1, 0.1, 0.6, 0.3, 0.3, 0.2, 0.5], [0, 1, 1], { bins: 10 });
    // Bins (0.6, 0.7] -> 1 right at 0.7; (0.5, 0.6] -> 1 right at 0.6; (0.4, 0.5] -> 1 wrong at 0.5.
    expect(ece).toBeCloseTo((0.3 + 0.4 + 0.5) / 3, 12);
  });

  it('rejects logits, ragged rows, empty input and bad bin counts', () => {
    expect(() => expectedCalibrationError([2.5, -1], [0])).toThrow('calibration: row 0 holds 2.5, not a probability (pass softmax outputs, not logits)');
    expect(() => expectedCalibrationError([0.5, 0.5, 1], [0, 1])).toThrow('calibration: 3 probabilities do not form 2 rows of equal length');
    expect(() => expectedCalibrationError([], [])).toThrow('calibration: no samples to score');
    expect(() => expectedCalibrationError([1, 0], [0], { bins: 0 })).toThrow('calibration: bins must be an integer >= 1, got 0');
    expect(() => expectedCalibrationError([1, 0], [2])).toThrow('labels[0] = 2 is not an integer class in 0..1');
  });
});
