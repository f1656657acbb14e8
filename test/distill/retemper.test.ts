import { describe, expect, it } from 'vitest';
import { retemperRows, softmaxRows } from '../../shared/math/softmax.js';

const logits = [2, -1, 0.5, 7, 7, -3];

describe('retemperRows', () => {
  it('turns softmax(z / 4) into softmax(z / 1) and softmax(z / 20), row by row', () => {
    const at4 = softmaxRows(logits, 3, 4);
    for (const to of [1, 20]) {
      const want = softmaxRows(logits, 3, to);
      const got = retemperRows(at4, 3, 4, to);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    }
  });

  it('leaves rows unchanged at the same temperature and keeps impossible classes at zero', () => {
    retemperRows([0.2, 0.3, 0.5], 3, 4, 4).forEach((v, i) => expect(v).toBeCloseTo([0.2, 0.3, 0.5][i], 6));
    expect(Array.from(retemperRows([0, 0.25, 0.75], 3, 4, 1))).toEqual([0, expect.closeTo(0.25 ** 4 / (0.25 ** 4 + 0.75 ** 4), 6), expect.closeTo(0.75 ** 4 / (0.25 ** 4 + 0.75 ** 4), 6)]);
  });

  it('names a temperature that is not positive', () => {
    expect(() => retemperRows([1], 1, 0, 1)).toThrow(/temperatures must be positive, got 0 and 1/);
  });
});
