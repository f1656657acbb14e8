/**
 * Tensor codec: dtype + shape + little-endian bytes, carried as msgpack `bin`.
 *
 * Why we own the layout: msgpackr's default handling of a Float32Array unpacked into a Buffer with extra
 * garbage elements in a quick test here, and msgpackr returns `bin` fields as views into the (unaligned)
 * receive buffer. So typed arrays are never handed to msgpackr: we send their raw bytes, and on decode we
 * copy into a fresh, aligned buffer before viewing it as Float32Array/Uint16Array/Int8Array.
 */
import { ProtocolError, ok, reject, type Result } from './errors.js';
import { fromFloat16, toFloat16 } from './float16.js';
import { describe, type Check } from './validate.js';

/**
 * Element types the codec carries. float16 is stored as its bit patterns (Uint16Array); int32 carries
 * integer data such as class labels, which must not pass through a float.
 */
export type DType = 'float32' | 'float16' | 'int8' | 'int32';

/** A tensor in memory, with the typed array that matches its dtype. int8 carries its dequantization scale. */
export type Tensor =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float16'; shape: number[]; data: Uint16Array }
  | { dtype: 'int8'; shape: number[]; data: Int8Array; scale: number }
  | { dtype: 'int32'; shape: number[]; data: Int32Array };

/** A tensor on the wire: raw little-endian bytes. `scale` is present exactly when dtype is int8. */
export interface WireTensor {
  dtype: DType;
  shape: number[];
  data: Uint8Array;
  scale?: number;
}

const ITEM_SIZE: Record<DType, number> = { float32: 4, float16: 2, int8: 1, int32: 4 };
/** Deeper tensors than this are not something the protocol ever sends; refusing them bounds validation work. */
export const MAX_RANK = 8;

/** True on little-endian hosts (nearly all); big-endian hosts byte-swap on the way in and out. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses byte order within each `width`-byte element, into a new array. */
export function swapBytes(src: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += width) for (let j = 0; j < width; j++) out[i + j] = src[i + width - 1 - j];
  return out;
}

/** Number of elements a shape describes. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Wraps float32 values; throws if the shape does not match the element count. */
export function float32Tensor(data: Float32Array, shape: number[]): Tensor {
  return checked({ dtype: 'float32', shape, data });
}

/** Converts float32 values to a float16 tensor (round half to even). */
export function float16Tensor(values: Float32Array, shape: number[]): Tensor {
  return checked({ dtype: 'float16', shape, data: toFloat16(values) });
}

/** Wraps int32 values (class labels, counts); throws if the shape does not match the element count. */
export function int32Tensor(data: Int32Array, shape: number[]): Tensor {
  return checked({ dtype: 'int32', shape, data });
}

/** Symmetric per-tensor int8 quantization: q = round(x / scale), scale = max|x| / 127. */
export function quantizeInt8(values: Float32Array, shape: number[]): Tensor {
  let maxAbs = 0;
  for (const v of values) maxAbs = Math.max(maxAbs, Math.abs(v));
  // An all-zero tensor still needs a positive scale so the receiver's validation stays simple.
  const scale = maxAbs > 0 ? maxAbs / 127 : 1;
  const data = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.max(-127, Math.min(127, Math.round(values[i] / scale)));
  return checked({ dtype: 'int8', shape, data, scale });
}

/** The tensor's values as float32 (expanding float16, dequantizing int8). */
export function toFloat32(t: Tensor): Float32Array {
  if (t.dtype === 'float32') return t.data;
  if (t.dtype === 'float16') return fromFloat16(t.data);
  if (t.dtype === 'int32') return Float32Array.from(t.data);
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = t.data[i] * t.scale;
  return out;
}

function checked(t: Tensor): Tensor {
  if (sizeOf(t.shape) !== t.data.length)
    throw new ProtocolError('bad_tensor', `tensor shape [${t.shape}] needs ${sizeOf(t.shape)} elements, got ${t.data.length}`);
  return t;
}

/** Encodes a tensor for the wire. The bytes alias the tensor's memory on little-endian hosts (no copy). */
export function encodeTensor(t: Tensor): WireTensor {
  checked(t);
  let data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (!HOST_LITTLE_ENDIAN && ITEM_SIZE[t.dtype] > 1) data = swapBytes(data, ITEM_SIZE[t.dtype]);
  const wire: WireTensor = { dtype: t.dtype, shape: [...t.shape], data };
  if (t.dtype === 'int8') wire.scale = t.scale;
  return wire;
}

/** Validates a wire tensor's structure; pure, returns the first problem found. */
export function checkWireTensor(opts: { maxElements: number; dtypes?: readonly DType[] }): Check<WireTensor> {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return reject('bad_shape', `${path}: expected tensor, got ${describe(value)}`);
    const v = value as Record<string, unknown>;
    for (const k of Object.keys(v))
      if (!['dtype', 'shape', 'data', 'scale'].includes(k)) return reject('bad_shape', `${path}.${k.slice(0, 40)}: no such field`);
    const dtypes = opts.dtypes ?? (Object.keys(ITEM_SIZE) as DType[]);
    if (!dtypes.includes(v.dtype as DType))
      return reject('bad_shape', `${path}.dtype: expected one of ${dtypes.join(', ')}, got ${describe(v.dtype)}`);
    const dtype = v.dtype as DType;
    if (!Array.isArray(v.shape) || v.shape.length > MAX_RANK)
      return reject('bad_shape', `${path}.shape: expected array of at most ${MAX_RANK} dims, got ${describe(v.shape)}`);
    for (let i = 0; i < v.shape.length; i++) {
      const d = v.shape[i];
      if (!Number.isSafeInteger(d) || d < 0 || d > 2 ** 31)
        return reject('bad_shape', `${path}.shape[${i}]: expected integer in 0..2^31, got ${describe(d)}`);
    }
    const n = sizeOf(v.shape as number[]);
    if (n > opts.maxElements) return reject('too_large', `${path}: ${n} elements exceeds limit ${opts.maxElements}`);
    if (!(v.data instanceof Uint8Array)) return reject('bad_shape', `${path}.data: expected bytes, got ${describe(v.data)}`);
    if (v.data.length !== n * ITEM_SIZE[dtype])
      return reject('bad_shape', `${path}.data: shape [${v.shape}] of ${dtype} needs ${n * ITEM_SIZE[dtype]} bytes, got ${v.data.length}`);
    if (dtype === 'int8') {
      if (typeof v.scale !== 'number' || !Number.isFinite(v.scale) || v.scale <= 0)
        return reject('bad_shape', `${path}.scale: expected finite number > 0, got ${describe(v.scale)}`);
    } else if (v.scale !== undefined) return reject('bad_shape', `${path}.scale: only int8 tensors carry a scale`);
    const out: WireTensor = { dtype, shape: v.shape as number[], data: v.data };
    if (dtype === 'int8') out.scale = v.scale as number;
    return ok(out);
  };
}

/** Validates and decodes a wire tensor into an aligned typed array that owns its memory. */
export function tryDecodeTensor(value: unknown, maxElements = 2 ** 28): Result<Tensor> {
  const r = checkWireTensor({ maxElements })(value, 'tensor');
  if (!r.ok) return r;
  const w = r.value;
  const size = ITEM_SIZE[w.dtype];
  // Copy first: the source is usually an unaligned view into a larger receive buffer.
  const raw = !HOST_LITTLE_ENDIAN && size > 1 ? swapBytes(w.data, size) : w.data;
  const buf = new ArrayBuffer(raw.length);
  new Uint8Array(buf).set(raw);
  const shape = [...w.shape];
  if (w.dtype === 'float32') return ok({ dtype: 'float32', shape, data: new Float32Array(buf) });
  if (w.dtype === 'float16') return ok({ dtype: 'float16', shape, data: new Uint16Array(buf) });
  if (w.dtype === 'int32') return ok({ dtype: 'int32', shape, data: new Int32Array(buf) });
  return ok({ dtype: 'int8', shape, data: new Int8Array(buf), scale: w.scale as number });
}

/** Like {@link tryDecodeTensor} but throws; for tensors already validated at the boundary. */
export function decodeTensor(value: WireTensor): Tensor {
  const r = tryDecodeTensor(value);
  if (!r.ok) throw new ProtocolError(r.error.code, r.error.reason);
  return r.value;
}
