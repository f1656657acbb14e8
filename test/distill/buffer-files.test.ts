/**
 * The replay buffer on disk as segment files: a save rewrites only the segments whose rows changed since the
 * last one (a ring that wraps included), and reading the segments back gives the buffer's rows exactly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ReplayBuffer } from '../../coordinator/engine/replay.js';
import { BufferFiles, readSegments, segmentRows } from '../../coordinator/engine/buffer-files.js';

// 100,000 features a row make a row 400 kB, so a 4 MiB segment holds 10 rows and a small buffer spans several.
const FEATURES = 100_000;
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function rows(first: number, n: number): { x: Float32Array; targets: Float32Array } {
  const x = new Float32Array(n * FEATURES);
  const targets = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    x.fill(first + i, i * FEATURES, (i + 1) * FEATURES);
    targets[i * 2] = first + i;
    targets[i * 2 + 1] = -(first + i);
  }
  return { x, targets };
}

/** Bytewise equality (toEqual walks five million elements one by one). */
function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function push(b: ReplayBuffer, first: number, n: number): void {
  const r = rows(first, n);
  b.push(r.x, r.targets);
}

describe('BufferFiles', () => {
  it('rewrites only the segments whose rows changed, and reads back the buffer row for row', () => {
    dir = mkdtempSync(join(tmpdir(), 'distillery-segments-'));
    const b = new ReplayBuffer(50, FEATURES, 2);
    expect(segmentRows(b)).toBe(10);
    const store = new BufferFiles(dir, 'replay');
    push(b, 0, 25);
    const first = store.save(b, 1);
    expect(first.map((f) => [f.tensorFile, f.rows])).toEqual([['replay-0000-00001.bin', 10], ['replay-0001-00001.bin', 10], ['replay-0002-00001.bin', 5]]);
    const mtime = (f: string) => statSync(join(dir, f)).mtimeMs;
    const before = mtime('replay-0000-00001.bin');
    // Rows 25-27 land in segment 2 only.
    push(b, 100, 3);
    const second = store.save(b, 2);
    expect(second.map((f) => f.tensorFile)).toEqual(['replay-0000-00001.bin', 'replay-0001-00001.bin', 'replay-0002-00002.bin']);
    expect(second[2].rows).toBe(8);
    expect(mtime('replay-0000-00001.bin')).toBe(before);
    // 30 more rows fill rows 28-49 and wrap to rows 0-7: segments 0, 2, 3 and 4 change, segment 1 does not.
    push(b, 200, 30);
    const third = store.save(b, 3);
    expect(third.map((f) => f.tensorFile)).toEqual(['replay-0000-00003.bin', 'replay-0001-00001.bin', 'replay-0002-00003.bin', 'replay-0003-00003.bin', 'replay-0004-00003.bin']);
    const read = new Map(readSegments(dir, 'replay', third, b.length).map((a) => [a.name, a.values]));
    expect(sameBytes(read.get('replay/x')!, b.x)).toBe(true);
    expect(sameBytes(read.get('replay/targets')!, b.targets)).toBe(true);
    expect(sameBytes(read.get('replay/x')!, rows(0, 50).x)).toBe(false);
    expect(Array.from(read.get('replay/targets')!.subarray(0, 4))).toEqual([222, -222, 223, -223]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(3 + 1 + 4);
  });

  it('after a restore, adopts the files it was read from and rewrites nothing until rows change', () => {
    dir = mkdtempSync(join(tmpdir(), 'distillery-segments-'));
    const b = new ReplayBuffer(50, FEATURES, 2);
    push(b, 0, 15);
    const files = new BufferFiles(dir, 'replay').save(b, 1);
    const arrays = new Map(readSegments(dir, 'replay', files, 15).map((a) => [a.name, a.values]));
    const restored = new ReplayBuffer(50, FEATURES, 2);
    restored.restore({ size: 15, next: 15, x: arrays.get('replay/x')!, targets: arrays.get('replay/targets')! });
    const store = new BufferFiles(dir, 'replay');
    store.adopt(restored, files);
    expect(store.save(restored, 2)).toEqual(files);
    push(restored, 50, 1);
    expect(store.save(restored, 3).map((f) => f.tensorFile)).toEqual(['replay-0000-00001.bin', 'replay-0001-00003.bin']);
  });

  it('names the checkpoint when its segments do not add up to the rows its state says', () => {
    dir = mkdtempSync(join(tmpdir(), 'distillery-segments-'));
    const b = new ReplayBuffer(50, FEATURES, 2);
    push(b, 0, 12);
    const files = new BufferFiles(dir, 'replay').save(b, 1);
    expect(() => readSegments(dir, 'replay', files, 13)).toThrow(/segment files hold 12 rows, its state says 13/);
  });
});
