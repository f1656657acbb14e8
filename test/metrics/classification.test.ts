import { describe, expect, it } from 'vitest';
import { DataError } from '../../shared/data/dataset.js';
import { accuracy, argmaxRows, confusionMatrix, perClassAccuracy } from '../../shared/metrics/index.js';

// Four classes; class 3 never occurs in the labels but is a valid prediction target.
const labels = [0, 0, 1, 1, 1, 2, 2, 2, 2];
const predicted = [0, 1, 1, 1, 3, 2, 2, 0, 2];

describe('classification metrics against hand-computed values', () => {
  it('accuracy: 6 of 9 correct', () => {
    expect(accuracy(predicted, labels)).toBeCloseTo(6 / 9, 15);
    expect(accuracy([1, 1], [1, 1])).toBe(1);
    expect(accuracy(Int32Array.from([0, 1]), Int32Array.from([1, 0]))).toBe(0);
  });

  it('confusionMatrix: rows are true classes, columns predictions; the absent class has a zero row', () => {
    expect(confusionMatrix(predicted, labels, 4)).toEqual([
      [1, 1, 0, 0],
      [0, 2, 0, 1],
      [1, 0, 3, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('perClassAccuracy: recall per class, NaN for a class absent from the labels', () => {
    const acc = perClassAccuracy(predicted, labels, 4);
    expect(acc.slice(0, 3)).toEqual([1 / 2, 2 / 3, 3 / 4]);
    expect(acc[3]).toBeNaN();
  });

  it('argmaxRows: first maximum wins ties, as tf.argMax', () => {
    expect(Array.from(argmaxRows([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0, 1], 3))).toEqual([1, 0, 2]);
    expect(() => argmaxRows([1, 2, 3], 2)).toThrow('argmaxRows: 3 values do not form rows of 2 classes');
  });
});

describe('classification metrics reject bad input', () => {
  const bad = (fn: () => unknown, message: string) => {
    expect(fn).toThrow(DataError);
    expect(fn).toThrow(message);
  };

  it('mismatched lengths, no samples, classes out of range or fractional', () => {
    bad(() => accuracy([0, 1], [0]), '2 predictions for 1 labels');
    bad(() => accuracy([], []), 'no samples to score');
    bad(() => confusionMatrix([0, 4], [0, 1], 4), 'predicted[1] = 4 is not an integer class in 0..3');
    bad(() => perClassAccuracy([0, 1], [0, 1.5], 4), 'labels[1] = 1.5 is not an integer class in 0..3');
    bad(() => accuracy([0, -1], [0, 1]), 'predicted[1] = -1 is not a class index >= 0');
    bad(() => confusionMatrix([0], [0], 0), 'numClasses must be an integer >= 1, got 0');
  });
});
