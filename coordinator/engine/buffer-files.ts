/**
 * A replay buffer (or the procedural pool, which is one too) on disk as a run of segment files of about
 * 4 MiB each, so that a round's checkpoint rewrites only the segments whose rows changed since they were
 * last written. The fmnist-cnn-dir0.5 recipe's buffer is 127 MB and a round replaces 1,280 of its 40,000
 * rows: rewriting it whole every round wrote about 5 GB per run, a real cost on a gateway's SD card.
 * Segment files are new files (named by segment and round), written before the state file that names them;
 * files no state names any more are removed after it, so a kill at any moment leaves a loadable checkpoint.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readTensorFile, writeTensorFile, type NamedArray, type TensorManifestEntry } from '../../shared/fs/tensor-file.js';
import type { ReplayBuffer } from './replay.js';

/** One segment of a buffer on disk: rows [k · segmentRows, k · segmentRows + rows) of `${prefix}/x`, `/targets`, `/side`. */
export interface SegmentFile {
  tensorFile: string;
  manifest: TensorManifestEntry[];
  rows: number;
}

const SEGMENT_BYTES = 4 * 1024 * 1024;

/** Rows per segment file: about 4 MiB of float32 inputs and targets (at least one row). */
export function segmentRows(buffer: ReplayBuffer): number {
  return Math.max(1, Math.floor(SEGMENT_BYTES / (4 * (buffer.features + buffer.numClasses + buffer.sideWidth))));
}

export class BufferFiles {
  /** What this store last wrote (or loaded) per segment, and the buffer revision its rows were at. */
  private written = new Map<number, { file: SegmentFile; stamp: number }>();
  private owner?: ReplayBuffer;

  constructor(
    readonly dir: string,
    readonly prefix: 'replay' | 'procedural',
  ) {}

  /** Writes the segments whose rows changed since this store wrote them; returns every segment's file, in row order. */
  save(buffer: ReplayBuffer, round: number): SegmentFile[] {
    if (this.owner !== buffer) {
      this.written.clear();
      this.owner = buffer;
    }
    const per = segmentRows(buffer);
    const files: SegmentFile[] = [];
    for (let k = 0; k * per < buffer.length; k++) {
      const start = k * per;
      const rows = Math.min(per, buffer.length - start);
      const stamp = buffer.lastChange(start, start + rows);
      const kept = this.written.get(k);
      if (kept && kept.stamp === stamp && kept.file.rows === rows && existsSync(join(this.dir, kept.file.tensorFile))) {
        files.push(kept.file);
        continue;
      }
      const tensorFile = `${this.prefix}-${String(k).padStart(4, '0')}-${String(round).padStart(5, '0')}.bin`;
      const manifest = writeTensorFile(join(this.dir, tensorFile), rowArrays(this.prefix, buffer, start, rows));
      const file = { tensorFile, manifest, rows };
      this.written.set(k, { file, stamp });
      files.push(file);
    }
    for (const k of [...this.written.keys()]) if (k >= files.length) this.written.delete(k);
    return files;
  }

  /** After a buffer was restored from `files`: they hold its rows as they are now, so nothing needs rewriting. */
  adopt(buffer: ReplayBuffer, files: SegmentFile[]): void {
    this.owner = buffer;
    this.written.clear();
    const per = segmentRows(buffer);
    files.forEach((file, k) => this.written.set(k, { file, stamp: buffer.lastChange(k * per, k * per + file.rows) }));
  }
}

function rowArrays(prefix: string, buffer: ReplayBuffer, start: number, rows: number): NamedArray[] {
  const slice = (a: Float32Array, width: number) => a.subarray(start * width, (start + rows) * width);
  const arrays = [
    { name: `${prefix}/x`, shape: [rows * buffer.features], values: slice(buffer.x, buffer.features) },
    { name: `${prefix}/targets`, shape: [rows * buffer.numClasses], values: slice(buffer.targets, buffer.numClasses) },
  ];
  if (buffer.sideWidth) arrays.push({ name: `${prefix}/side`, shape: [rows * buffer.sideWidth], values: slice(buffer.side, buffer.sideWidth) });
  return arrays;
}

/**
 * A segmented buffer's arrays, each segment's rows joined in order under the names a whole-buffer checkpoint
 * used (`<prefix>/x`, `/targets`, `/side`). Throws naming the checkpoint when the segments do not add up to `size` rows.
 */
export function readSegments(dir: string, prefix: string, files: SegmentFile[], size: number): NamedArray[] {
  const rows = files.reduce((a, f) => a + f.rows, 0);
  if (!files.length && size === 0) return [`${prefix}/x`, `${prefix}/targets`].map((name) => ({ name, shape: [0], values: new Float32Array(0) }));
  if (rows !== size) throw new Error(`checkpoint ${dir}: the ${prefix} buffer's segment files hold ${rows} rows, its state says ${size}; delete the folder to start over`);
  const parts = new Map<string, Float32Array[]>();
  for (const f of files) {
    for (const a of readTensorFile(join(dir, f.tensorFile), f.manifest)) {
      if (!parts.has(a.name)) parts.set(a.name, []);
      parts.get(a.name)!.push(a.values);
    }
  }
  return [...parts].map(([name, chunks]) => {
    const values = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
    let offset = 0;
    for (const c of chunks) {
      values.set(c, offset);
      offset += c.length;
    }
    return { name, shape: [values.length], values };
  });
}
