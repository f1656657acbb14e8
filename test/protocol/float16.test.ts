import { describe, expect, it } from 'vitest';
import { fromFloat16, fromHalfBits, toFloat16, toHalfBits } from '../../shared/protocol/float16.js';

describe('float16', () => {
  it('round-trips every one of the 65,536 bit patterns (NaNs stay NaN)', () => {
    let nans = 0;
    for (let h = 0; h < 65536; h++) {
      const x = fromHalfBits(h);
      if (Number.isNaN(x)) {
        nans++;
        expect(Number.isNaN(fromHalfBits(toHalfBits(x)))).toBe(true);
      } else expect(toHalfBits(x)).toBe(h);
    }
    expect(nans).toBe(2 * 1023); // exponent all ones, non-zero mantissa, both signs
  });

  it('decodes hand-computed values', () => {
    expect(fromHalfBits(0x3c00)).toBe(1);
    expect(fromHalfBits(0xc000)).toBe(-2);
    expect(fromHalfBits(0x7bff)).toBe(65504); // largest finite half
    expect(fromHalfBits(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(fromHalfBits(0x0400)).toBe(2 ** -14); // smallest normal
    expect(fromHalfBits(0x7c00)).toBe(Infinity);
    expect(Object.is(fromHalfBits(0x8000), -0)).toBe(true);
  });

  it('rounds to nearest, ties to even, like hardware', () => {
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and next: even (1) wins
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway between 0x3c01 and 0x3c02: even wins
    expect(toHalfBits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above halfway rounds up
    expect(toHalfBits(65519)).toBe(0x7bff); // below the halfway point to 65536
    expect(toHalfBits(65520)).toBe(0x7c00); // halfway to 65536 rounds to even = Infinity
    expect(toHalfBits(1e9)).toBe(0x7c00);
    expect(toHalfBits(-1e9)).toBe(0xfc00);
    expect(toHalfBits(2 ** -25)).toBe(0x0000); // halfway to the smallest subnormal: even (0) wins
    expect(toHalfBits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(toHalfBits(3 * 2 ** -25)).toBe(0x0002); // 1.5 subnormal steps: tie to even (2)
    expect(toHalfBits(2 ** -30)).toBe(0x0000);
    expect(toHalfBits(-(2 ** -30))).toBe(0x8000);
    expect(toHalfBits(2 ** -15 + 2 ** -25)).toBe(0x0200); // subnormal 512 plus exactly half a step: even stays
  });

  it('converts arrays with relative error below 2^-11 in the normal range', () => {
    const xs = new Float32Array([0.1, -3.14159, 1000.5, 6e-5, 12345.678]);
    const back = fromFloat16(toFloat16(xs));
    xs.forEach((x, i) => expect(Math.abs(back[i] - x) / Math.abs(x)).toBeLessThanOrEqual(2 ** -11));
  });
});
