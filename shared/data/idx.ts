/**
 * Reader for the IDX format (LeCun's MNIST container, also used by Fashion-MNIST), optionally gzipped.
 *
 * Header: two zero bytes, a type code (0x08 = unsigned byte is the only one these data sets use), the
 * number of dimensions, then one big-endian uint32 per dimension. Every structural problem becomes a
 * DataError naming the file, never an out-of-range read deep inside a typed array.
 */
import { gunzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import { DataError } from './dataset.js';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/** Decompresses if the bytes start with the gzip magic number. */
function maybeGunzip(bytes: Buffer, file: string): Buffer {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (e) {
      throw new DataError('corrupt-file', `${file}: gzip data is truncated or corrupt (${(e as Error).message})`);
    }
  }
  return bytes;
}

/** Parses IDX bytes (already decompressed). `file` is only used in error messages. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) throw new DataError('corrupt-file', `${file}: ${bytes.length} bytes is too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new DataError('corrupt-file', `${file}: not an IDX file (the first two bytes must be zero)`);
  if (bytes[2] !== 0x08) {
    throw new DataError('corrupt-file', `${file}: IDX element type 0x${bytes[2].toString(16)} is not supported (expected 0x08, unsigned byte)`);
  }
  const rank = bytes[3];
  if (rank < 1 || rank > 4) throw new DataError('corrupt-file', `${file}: IDX rank ${rank} is out of range 1..4`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new DataError('corrupt-file', `${file}: truncated IDX header (${bytes.length} of ${headerBytes} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const expected = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual !== expected) {
    throw new DataError(
      'corrupt-file',
      `${file}: IDX header declares shape [${shape.join(', ')}] = ${expected} values but the file holds ${actual}` +
        (actual < expected ? ' (truncated)' : ' (trailing bytes)'),
    );
  }
  return { shape, data: bytes.subarray(headerBytes) };
}

/** Reads an IDX file (gzipped or not) from disk. `hint` is appended to the missing-file message. */
export function readIdxFile(file: string, hint = ''): IdxArray {
  if (!existsSync(file)) throw new DataError('missing-file', `${file} does not exist${hint ? `. ${hint}` : ''}`);
  return parseIdx(maybeGunzip(readFileSync(file), file), file);
}
