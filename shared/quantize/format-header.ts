/**
 * Validates an int8 model file's JSON header against its blob and builds the QuantizedModel. Every check
 * names the field and the bad value ("ops[2].weights: 4608 int8 values expected, header says 4600"), since a
 * refused model on a remote device is only ever debugged from its log line.
 */
import { QuantFormatError } from './errors.js';
import { sizeOf, type Pair, type Shape3 } from './geometry.js';
import { QOP_KINDS, type AffineOp, type QOp, type QParams, type QuantizedModel } from './model.js';

/** [byteOffset, count] of one array in the blob. */
export type BlobRef = [number, number];

export interface Header {
  format: string;
  version: number;
  inputShape: Shape3;
  input: QParams;
  outputShape: number[];
  ops: Record<string, unknown>[];
  blobBytes: number;
}

interface Context {
  source: string;
  format: string;
  version: number;
  blobStart: number;
  fileBytes: number;
  blob: DataView;
}

// Keeps a hostile header from making the runtime reserve gigabytes for one activation.
const MAX_ELEMENTS = 2 ** 26;

export function parseHeader(raw: unknown, ctx: Context): QuantizedModel {
  const fail = (path: string, msg: string): never => {
    throw new QuantFormatError('bad-header', `${ctx.source}: ${path}: ${msg}`);
  };
  const obj = (v: unknown, path: string) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(path, `must be an object, got ${JSON.stringify(v)}`));
  const int = (v: unknown, path: string, lo: number, hi: number): number =>
    Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi ? (v as number) : fail(path, `must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  const ints = (v: unknown, path: string, n: number, lo: number, hi: number): number[] =>
    Array.isArray(v) && v.length === n ? v.map((d, i) => int(d, `${path}[${i}]`, lo, hi)) : fail(path, `must be an array of ${n} integers, got ${JSON.stringify(v)}`);
  const shape3 = (v: unknown, path: string): Shape3 => {
    const s = ints(v, path, 3, 1, MAX_ELEMENTS) as Shape3;
    return sizeOf(s) <= MAX_ELEMENTS ? s : fail(path, `[${s}] has more than ${MAX_ELEMENTS} elements`);
  };
  const pair = (v: unknown, path: string): Pair => ints(v, path, 2, 1, 1024) as Pair;
  const params = (v: unknown, path: string): QParams => {
    const p = obj(v, path);
    const scale = typeof p.scale === 'number' && Number.isFinite(p.scale) && p.scale > 0 ? p.scale : fail(`${path}.scale`, `must be a finite number > 0, got ${JSON.stringify(p.scale)}`);
    return { scale, zeroPoint: int(p.zeroPoint, `${path}.zeroPoint`, -128, 127) };
  };

  const h = obj(raw, 'header');
  if (h.format !== ctx.format) fail('format', `must be ${JSON.stringify(ctx.format)}, got ${JSON.stringify(h.format)}`);
  if (h.version !== ctx.version) {
    throw new QuantFormatError('unsupported-version', `${ctx.source}: format version ${JSON.stringify(h.version)} is not supported; this build reads version ${ctx.version}`);
  }
  const blobBytes = int(h.blobBytes, 'blobBytes', 0, 2 ** 31);
  const expected = ctx.blobStart + blobBytes;
  if (ctx.fileBytes < expected) throw new QuantFormatError('truncated', `${ctx.source}: file is truncated: ${ctx.fileBytes} bytes, header and blob need ${expected}`);
  if (ctx.fileBytes > expected) fail('blobBytes', `file has ${ctx.fileBytes - expected} bytes after the ${blobBytes}-byte blob`);
  if (ctx.blobStart % 4 !== 0) fail('header', `length ${ctx.blobStart - 8} leaves the blob unaligned; it must end on a 4-byte boundary`);

  const ref = (v: unknown, path: string, bytesEach: 1 | 4, count: number): number => {
    const [offset, n] = ints(v, path, 2, 0, blobBytes);
    if (n !== count) fail(path, `${count} values expected, header says ${n}`);
    if (offset % bytesEach !== 0) fail(path, `offset ${offset} is not ${bytesEach}-byte aligned`);
    if (offset + n * bytesEach > blobBytes) fail(path, `bytes [${offset}, ${offset + n * bytesEach}) run past the ${blobBytes}-byte blob`);
    return ctx.blobStart + offset;
  };
  const int8s = (v: unknown, path: string, count: number) => {
    const at = ref(v, path, 1, count);
    return new Int8Array(ctx.blob.buffer.slice(ctx.blob.byteOffset + at, ctx.blob.byteOffset + at + count));
  };
  const int32s = (v: unknown, path: string, count: number) => {
    const at = ref(v, path, 4, count);
    return Int32Array.from({ length: count }, (_, i) => ctx.blob.getInt32(at + 4 * i, true));
  };
  const float32s = (v: unknown, path: string, count: number) => {
    const at = ref(v, path, 4, count);
    return Float32Array.from({ length: count }, (_, i) => ctx.blob.getFloat32(at + 4 * i, true));
  };

  const inputShape = shape3(h.inputShape, 'inputShape');
  const input = params(h.input, 'input');
  const outputShape = Array.isArray(h.outputShape) && h.outputShape.length > 0
    ? h.outputShape.map((d, i) => int(d, `outputShape[${i}]`, 1, MAX_ELEMENTS))
    : fail('outputShape', `must be a non-empty array of positive integers, got ${JSON.stringify(h.outputShape)}`);
  if (!Array.isArray(h.ops)) fail('ops', `must be an array, got ${JSON.stringify(h.ops)}`);
  const rawOps = h.ops as unknown[];
  let prev = inputShape;
  const ops = rawOps.map((rawOp, i): QOp => {
    const path = `ops[${i}]`;
    const o = obj(rawOp, path);
    const kind = o.kind as QOp['kind'];
    if (!(QOP_KINDS as readonly unknown[]).includes(kind)) fail(`${path}.kind`, `unknown op ${JSON.stringify(o.kind)}; use one of ${QOP_KINDS.join(', ')}`);
    const inShape = shape3(o.inShape, `${path}.inShape`);
    const outShape = shape3(o.outShape, `${path}.outShape`);
    if (sizeOf(inShape) !== sizeOf(prev)) fail(`${path}.inShape`, `[${inShape}] does not hold the ${sizeOf(prev)} values of the previous output [${prev}]`);
    prev = outShape;
    const expectOut = (want: number[]) => {
      if (want.some((d, k) => d !== outShape[k])) fail(`${path}.outShape`, `is [${outShape}], but its input and parameters give [${want}]`);
    };
    if (kind === 'conv' || kind === 'depthwise') {
      const kernel = pair(o.kernel, `${path}.kernel`);
      const strides = pair(o.strides, `${path}.strides`);
      const dilation = pair(o.dilation, `${path}.dilation`);
      const pads = ints(o.pads, `${path}.pads`, 4, 0, 1024) as [number, number, number, number];
      const dim = (axis: 0 | 1) => Math.floor((inShape[axis] + pads[axis] + pads[axis + 2] - (kernel[axis] - 1) * dilation[axis] - 1) / strides[axis]) + 1;
      const cout = outShape[2];
      if (kind === 'depthwise' && cout % inShape[2] !== 0) fail(`${path}.outShape`, `${cout} channels are not a multiple of the ${inShape[2]} input channels`);
      expectOut([dim(0), dim(1), cout]);
      const weights = int8s(o.weights, `${path}.weights`, kernel[0] * kernel[1] * (kind === 'conv' ? inShape[2] * cout : cout));
      const multipliers = int32s(o.multipliers, `${path}.multipliers`, cout);
      multipliers.forEach((m, c) => m < 0 && fail(`${path}.multipliers[${c}]`, `must be >= 0, got ${m}`));
      const clamp = ints(o.clamp, `${path}.clamp`, 2, -128, 127) as Pair;
      if (clamp[0] > clamp[1]) fail(`${path}.clamp`, `[${clamp}] is empty`);
      const op: AffineOp = {
        kind, geo: { inShape, outShape, kernel, strides, dilation, pads }, weights, bias: int32s(o.bias, `${path}.bias`, cout), multipliers,
        shift: int(o.shift, `${path}.shift`, 1, 62), output: params(o.output, `${path}.output`), clamp,
      };
      if (o.accumulatorScales !== undefined) {
        if (i !== rawOps.length - 1) fail(`${path}.accumulatorScales`, 'is only allowed on the last op');
        op.accumulatorScales = float32s(o.accumulatorScales, `${path}.accumulatorScales`, cout);
        op.accumulatorScales.forEach((s, c) => !(s > 0 && Number.isFinite(s)) && fail(`${path}.accumulatorScales[${c}]`, `must be finite and > 0, got ${s}`));
      }
      return op;
    }
    if (kind === 'maxPool' || kind === 'avgPool') {
      const pool = pair(o.pool, `${path}.pool`);
      const strides = pair(o.strides, `${path}.strides`);
      expectOut([Math.floor((inShape[0] - pool[0]) / strides[0]) + 1, Math.floor((inShape[1] - pool[1]) / strides[1]) + 1, inShape[2]]);
      return { kind, inShape, outShape, pool, strides };
    }
    if (kind === 'globalAvgPool') {
      expectOut([1, 1, inShape[2]]);
      return { kind, inShape, outShape };
    }
    expectOut(inShape);
    return { kind: 'lut', inShape, outShape, table: int8s(o.table, `${path}.table`, 256), output: params(o.output, `${path}.output`) };
  });
  if (sizeOf(prev) !== sizeOf(outputShape)) fail('outputShape', `[${outputShape}] does not hold the ${sizeOf(prev)} values of the last op's output [${prev}]`);
  return { inputShape, input, outputShape, ops };
}
