/**
 * IEEE 754 binary16 conversion. Soft labels travel as float16 to halve their size; the maths happens in
 * float32. Encoding rounds to nearest, ties to even (what hardware does), so float32 -> float16 -> float32
 * is the closest representable half and float16 bits survive any number of round trips unchanged.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bit pattern nearest to `x` (round half to even; overflow gives ±Infinity; NaN stays NaN). */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: the implicit leading 1 becomes explicit and is shifted into the 10-bit mantissa.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches Infinity at the top).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return half;
}

let table: Float32Array | undefined;

/** Decoding by table: 65,536 entries (256 KiB) built once, because soft-label decode is on the hot path. */
function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    table[h] = e === 0 ? s * m * 2 ** -24 : e === 0x1f ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return table;
}

/** The float value of one float16 bit pattern. */
export function fromHalfBits(h: number): number {
  return halfTable()[h & 0xffff];
}

/** Converts a float32 array to float16 bit patterns. */
export function toFloat16(values: Float32Array | readonly number[]): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]);
  return out;
}

/** Expands float16 bit patterns to float32 (exact: every half is representable in float32). */
export function fromFloat16(bits: Uint16Array): Float32Array {
  const t = halfTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}
