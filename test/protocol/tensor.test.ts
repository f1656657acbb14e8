import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { packValue, unpackExact } from '../../shared/protocol/msgpack.js';
import {
  checkWireTensor,
  decodeTensor,
  encodeTensor,
  float16Tensor,
  float32Tensor,
  quantizeInt8,
  swapBytes,
  toFloat32,
  tryDecodeTensor,
  type Tensor,
} from '../../shared/protocol/tensor.js';
import { seededRandom } from '../../shared/random.js';

/** Through msgpack and back, as on the wire. */
function wireRoundTrip(t: Tensor): Tensor {
  const r = unpackExact(packValue({ pad: 'x', t: encodeTensor(t) })); // 'pad' shifts the bin to an odd offset
  if (!r.ok) throw new Error(r.error.reason);
  return decodeTensor((r.value as { t: never }).t);
}

const rnd = seededRandom(3);
const values = Float32Array.from({ length: 257 }, () => rnd.normal() * 10);

describe('tensor codec', () => {
  it('round-trips float32 exactly, including NaN, ±Infinity, -0 and subnormals', () => {
    const special = new Float32Array([...values, NaN, Infinity, -Infinity, -0, 1e-45, 3.4e38]);
    const back = wireRoundTrip(float32Tensor(special, [special.length]));
    expect(back.dtype).toBe('float32');
    expect(new Uint8Array(back.data.buffer)).toEqual(new Uint8Array(special.buffer));
    expect(back.data.length).toBe(special.length); // no extra elements
  });

  it('round-trips float16 bit patterns exactly and keeps them within half precision of the input', () => {
    const t = float16Tensor(values, [257, 1]);
    const back = wireRoundTrip(t);
    expect(back.dtype).toBe('float16');
    expect(back.shape).toEqual([257, 1]);
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
    const f = toFloat32(back);
    values.forEach((v, i) => expect(Math.abs(f[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -24));
  });

  it('round-trips int8 with its scale exactly; dequantization error is at most scale/2', () => {
    const t = quantizeInt8(values, [257]);
    const back = wireRoundTrip(t);
    if (back.dtype !== 'int8' || t.dtype !== 'int8') throw new Error('dtype');
    expect(back.scale).toBe(t.scale);
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
    const maxAbs = Math.max(...Array.from(values, Math.abs));
    expect(t.scale).toBeCloseTo(maxAbs / 127, 12);
    const f = toFloat32(back);
    values.forEach((v, i) => expect(Math.abs(f[i] - v)).toBeLessThanOrEqual(t.scale / 2 + 1e-6));
    expect(quantizeInt8(new Float32Array(3), [3])).toMatchObject({ scale: 1, data: new Int8Array(3) });
  });

  it('decodes into aligned memory that does not alias the receive buffer', () => {
    const frame = packValue({ a: 'odd', t: encodeTensor(float32Tensor(new Float32Array([1, 2, 3]), [3])) });
    const r = unpackExact(frame);
    if (!r.ok) throw new Error(r.error.reason);
    const wire = (r.value as { t: { data: Uint8Array } }).t;
    expect(wire.data.byteOffset % 4).not.toBe(0); // msgpackr hands out an unaligned view...
    const t = decodeTensor(wire as never);
    expect(t.data.byteOffset).toBe(0); // ...which the codec copies
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
    frame.fill(0);
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
  });

  it('is immune to the msgpackr typed-array quirk that motivated it', () => {
    // The naive path: msgpackr's own typed-array handling does not give back the same Float32Array.
    const naive = new Packr().unpack(new Packr().pack(new Float32Array([1, 2, 3])));
    expect(naive instanceof Float32Array && naive.length === 3 && naive[2] === 3).toBe(false);
    expect(Array.from(wireRoundTrip(float32Tensor(new Float32Array([1, 2, 3]), [3])).data)).toEqual([1, 2, 3]);
  });

  it('encodes only the view of a subarray, not its whole backing buffer', () => {
    const big = new Float32Array([9, 1, 2, 9]);
    const back = wireRoundTrip(float32Tensor(big.subarray(1, 3), [2]));
    expect(Array.from(back.data)).toEqual([1, 2]);
  });

  it('byte-swaps element-wise (used on big-endian hosts)', () => {
    expect(Array.from(swapBytes(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 4))).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
    expect(Array.from(swapBytes(new Uint8Array([1, 2, 3, 4]), 2))).toEqual([2, 1, 4, 3]);
  });

  it('refuses a shape that does not match the data when building', () => {
    expect(() => float32Tensor(new Float32Array(5), [2, 3])).toThrow(/shape \[2,3\] needs 6 elements, got 5/);
  });

  it.each([
    ['not an object', 5, 'bad_shape', /expected tensor/],
    ['unknown dtype', { dtype: 'float64', shape: [1], data: new Uint8Array(8) }, 'bad_shape', /dtype/],
    ['negative dim', { dtype: 'int8', shape: [-1], data: new Uint8Array(0), scale: 1 }, 'bad_shape', /shape\[0\]/],
    ['fractional dim', { dtype: 'float32', shape: [1.5], data: new Uint8Array(4) }, 'bad_shape', /shape\[0\]/],
    ['too many dims', { dtype: 'float32', shape: [1, 1, 1, 1, 1, 1, 1, 1, 1], data: new Uint8Array(4) }, 'bad_shape', /dims/],
    ['byte count mismatch', { dtype: 'float32', shape: [2], data: new Uint8Array(7) }, 'bad_shape', /needs 8 bytes, got 7/],
    ['data not bytes', { dtype: 'float32', shape: [1], data: [1, 2, 3, 4] }, 'bad_shape', /data/],
    ['int8 without scale', { dtype: 'int8', shape: [1], data: new Uint8Array(1) }, 'bad_shape', /scale/],
    ['int8 with zero scale', { dtype: 'int8', shape: [1], data: new Uint8Array(1), scale: 0 }, 'bad_shape', /scale/],
    ['float with scale', { dtype: 'float16', shape: [1], data: new Uint8Array(2), scale: 2 }, 'bad_shape', /scale/],
    ['extra field', { dtype: 'float16', shape: [1], data: new Uint8Array(2), x: 1 }, 'bad_shape', /x: no such field/],
    ['too many elements', { dtype: 'int8', shape: [1000, 1000], data: new Uint8Array(0), scale: 1 }, 'too_large', /exceeds limit/],
  ])('rejects a wire tensor with %s', (_name, value, code, reason) => {
    const r = checkWireTensor({ maxElements: 1000 })(value, 'body.t');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.reason).toMatch(reason);
    }
    expect(tryDecodeTensor(value, 1000).ok).toBe(false);
  });
});
