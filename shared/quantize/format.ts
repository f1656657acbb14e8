/**
 * The int8 model file: a small JSON header and one binary blob.
 *
 *   bytes 0..3   magic "DQI8"
 *   bytes 4..7   header length H, uint32 little-endian
 *   bytes 8..    H bytes of UTF-8 JSON, space-padded so the blob starts 4-byte aligned
 *   then         the blob: int8 weights and tables, int32 biases and multipliers, float32 output scales,
 *                little-endian, each int32/float32 array 4-byte aligned
 *
 * The header names every array as [byteOffset, count] into the blob, and declares blobBytes; the file must
 * end exactly there. The format carries no checksum: integrity and origin come from the signed
 * model.publish envelope (shared/security), and the parser validates every field it reads.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic.js';
import { QuantFormatError } from './errors.js';
import { parseHeader, type BlobRef, type Header } from './format-header.js';
import type { QOp, QuantizedModel } from './model.js';

export const MAGIC = 'DQI8';
export const FORMAT_NAME = 'distillery-int8';
export const FORMAT_VERSION = 1;

type Stored = Int8Array | Int32Array | Float32Array;

/** Collects arrays into the blob, 4-byte aligning the wide ones, and hands back their references. */
class BlobWriter {
  private parts: { at: number; data: Stored }[] = [];
  private size = 0;
  add(data: Stored): BlobRef {
    if (data.BYTES_PER_ELEMENT === 4) this.size = Math.ceil(this.size / 4) * 4;
    this.parts.push({ at: this.size, data });
    this.size += data.byteLength;
    return [this.size - data.byteLength, data.length];
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    const view = new DataView(out.buffer);
    for (const { at, data } of this.parts) {
      if (data instanceof Int8Array) out.set(new Uint8Array(data.buffer, data.byteOffset, data.length), at);
      else if (data instanceof Int32Array) data.forEach((v, i) => view.setInt32(at + 4 * i, v, true));
      else data.forEach((v, i) => view.setFloat32(at + 4 * i, v, true));
    }
    return out;
  }
}

function opHeader(op: QOp, blob: BlobWriter): Record<string, unknown> {
  if (op.kind === 'conv' || op.kind === 'depthwise') {
    const { geo } = op;
    return {
      kind: op.kind, inShape: geo.inShape, outShape: geo.outShape, kernel: geo.kernel, strides: geo.strides, dilation: geo.dilation, pads: geo.pads,
      weights: blob.add(op.weights), bias: blob.add(op.bias), multipliers: blob.add(op.multipliers), shift: op.shift,
      output: op.output, clamp: op.clamp, ...(op.accumulatorScales ? { accumulatorScales: blob.add(op.accumulatorScales) } : {}),
    };
  }
  if (op.kind === 'lut') return { kind: op.kind, inShape: op.inShape, outShape: op.outShape, table: blob.add(op.table), output: op.output };
  if (op.kind === 'globalAvgPool') return { kind: op.kind, inShape: op.inShape, outShape: op.outShape };
  return { kind: op.kind, inShape: op.inShape, outShape: op.outShape, pool: op.pool, strides: op.strides };
}

/** Encodes a quantized model as one file's bytes. */
export function serializeQuantized(model: QuantizedModel): Uint8Array {
  const blob = new BlobWriter();
  const ops = model.ops.map((op) => opHeader(op, blob));
  const blobBytes = blob.bytes();
  const header: Header = {
    format: FORMAT_NAME, version: FORMAT_VERSION, inputShape: model.inputShape, input: model.input,
    outputShape: model.outputShape, ops, blobBytes: blobBytes.length,
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 4) * 4 - 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + blobBytes.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  out.set(blobBytes, 8 + json.length);
  return out;
}

/**
 * Decodes and validates a model file. Throws QuantFormatError: 'bad-magic' (not an int8 model file),
 * 'truncated' (shorter than its header says), 'unsupported-version', or 'bad-header' naming the field.
 */
export function parseQuantized(bytes: Uint8Array, source = 'int8 model'): QuantizedModel {
  if (bytes.length < 8) throw new QuantFormatError('truncated', `${source}: ${bytes.length} bytes is too short for an int8 model file (at least 8)`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== MAGIC) throw new QuantFormatError('bad-magic', `${source}: starts with ${JSON.stringify(magic)}, not the int8 model magic "${MAGIC}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  if (8 + headerLength > bytes.length) {
    throw new QuantFormatError('truncated', `${source}: header of ${headerLength} bytes runs past the end of the ${bytes.length}-byte file`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new QuantFormatError('bad-header', `${source}: header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  const blobStart = 8 + headerLength;
  return parseHeader(raw, { source, version: FORMAT_VERSION, format: FORMAT_NAME, blobStart, fileBytes: bytes.length, blob: view });
}

/** Writes a model file atomically (temp file + rename), so a crash never leaves half a model. */
export function saveQuantized(model: QuantizedModel, path: string): number {
  const bytes = serializeQuantized(model);
  writeFileAtomic(path, bytes);
  return bytes.length;
}

/** Reads and validates a model file. */
export function loadQuantized(path: string): QuantizedModel {
  return parseQuantized(readFileSync(path), path);
}
