/**
 * Named float32 tensors in one binary file plus a JSON manifest, for checkpoints (weights, optimizer
 * slots). Written atomically; read back with full size checks so a torn file is an error, not garbage.
 */
import { readFileSync, existsSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';

export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface TensorManifestEntry {
  name: string;
  shape: number[];
  offset: number;
}

export function writeTensorFile(path: string, arrays: NamedArray[]): TensorManifestEntry[] {
  const total = arrays.reduce((a, t) => a + t.values.length, 0);
  const all = new Float32Array(total);
  const manifest: TensorManifestEntry[] = [];
  let offset = 0;
  for (const t of arrays) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.values.length) throw new Error(`tensor ${t.name}: shape [${t.shape}] does not match ${t.values.length} values`);
    all.set(t.values, offset);
    manifest.push({ name: t.name, shape: t.shape, offset });
    offset += size;
  }
  writeFileAtomic(path, new Uint8Array(all.buffer));
  return manifest;
}

export function readTensorFile(path: string, manifest: TensorManifestEntry[]): NamedArray[] {
  if (!existsSync(path)) throw new Error(`checkpoint tensor file ${path} is missing`);
  const bytes = readFileSync(path);
  const all = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(all.buffer).set(bytes.subarray(0, all.length * 4));
  return manifest.map((m) => {
    const size = m.shape.reduce((a, b) => a * b, 1);
    if (m.offset + size > all.length) throw new Error(`checkpoint tensor file ${path} is truncated (needs ${m.name} at ${m.offset}+${size}, has ${all.length} values)`);
    return { name: m.name, shape: m.shape, values: all.slice(m.offset, m.offset + size) };
  });
}
