/**
 * The agent's local samples: one sample's checks, the initial data directory (CSV with and without a
 * header, JSON lines, IDX pairs, gzipped or not), and the durable ingest store (all-or-nothing batches,
 * persistence across restarts, a torn last line from a crash, and the "new since" bookkeeping).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { checkSample, readSampleDir, SampleError, SampleStore } from '../../../edge-agent/agent/samples.js';

const tmp = mkdtempSync(join(tmpdir(), 'distillery-agent-samples-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => {
  const d = join(tmp, `d${dirs++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

/** IDX bytes: 0, 0, 0x08 (unsigned byte), rank, then big-endian uint32 dims, then the data. */
function idx(shape: number[], data: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = 0x08;
  head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Uint8Array.from(data)]);
}

const image = { sampleShape: [2, 2, 1], numClasses: 3 };
const table = { sampleShape: [4], numClasses: 3 };

describe('checkSample', () => {
  it('returns float32 features and the label', () => {
    const s = checkSample({ x: [0.5, 1, -2, 3e-3], y: 2 }, table, 'sample 0');
    expect(s.x).toBeInstanceOf(Float32Array);
    expect(Array.from(s.x)).toEqual([0.5, 1, -2, Math.fround(3e-3)]);
    expect(s.y).toBe(2);
  });

  it('accepts an image given as nested rows, flattened row-major', () => {
    expect(Array.from(checkSample({ x: [[1, 2], [3, 4]], y: 0 }, image, 's').x)).toEqual([1, 2, 3, 4]);
    expect(Array.from(checkSample({ x: [[[1], [2]], [[3], [4]]], y: 1 }, image, 's').x)).toEqual([1, 2, 3, 4]);
  });

  const bad: [string, unknown, RegExp][] = [
    ['too few values', { x: [1, 2, 3], y: 0 }, /^sample 7: x has 3 values, expected 4 \(shape \[4\]\)$/],
    ['too many values', { x: [1, 2, 3, 4, 5], y: 0 }, /^sample 7: x has 5 values, expected 4/],
    ['label = numClasses', { x: [1, 2, 3, 4], y: 3 }, /^sample 7: label 3 is not an integer class in 0\.\.2$/],
    ['negative label', { x: [1, 2, 3, 4], y: -1 }, /^sample 7: label -1 is not an integer class/],
    ['non-integer label', { x: [1, 2, 3, 4], y: 1.5 }, /^sample 7: label 1\.5 is not an integer class/],
    ['label as a string', { x: [1, 2, 3, 4], y: '1' }, /^sample 7: label "1" is not an integer class/],
    ['missing label', { x: [1, 2, 3, 4] }, /^sample 7: label undefined is not an integer class/],
    ['NaN feature', { x: [1, 2, NaN, 4], y: 0 }, /^sample 7: x\[2\] is NaN, not a finite number$/],
    ['infinite feature', { x: [1, Infinity, 3, 4], y: 0 }, /^sample 7: x\[1\] is Infinity, not a finite number$/],
    ['string features', { x: ['1', '2', '3', '4'], y: 0 }, /^sample 7: x must be an array of numbers \(nested arrays allowed\), got an array with non-numbers/],
    ['null feature', { x: [1, null, 3, 4], y: 0 }, /^sample 7: x must be an array of numbers/],
    ['x a string', { x: '1,2,3,4', y: 0 }, /^sample 7: x must be an array of numbers .*got "1,2,3,4"/],
    ['an array instead of an object', [1, 2, 3, 4], /^sample 7: must be an object/],
    ['null', null, /^sample 7: must be an object/],
  ];
  for (const [name, sample, message] of bad) {
    it(`refuses ${name}`, () => {
      expect(() => checkSample(sample, table, 'sample 7')).toThrow(SampleError);
      expect(() => checkSample(sample, table, 'sample 7')).toThrow(message);
    });
  }
});

describe('readSampleDir', () => {
  it('reads CSV (with and without a header), JSON lines and gzipped and plain IDX pairs, in name order', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a-header.csv'), 'f1,f2,f3,f4,label\n0.1,0.2,0.3,0.4,0\n1,2,3,4,2\n');
    writeFileSync(join(dir, 'b-plain.csv'), '5,6,7,8,1\r\n-1.5,2e-1,0,9,0\r\n');
    writeFileSync(join(dir, 'c.jsonl'), `${JSON.stringify({ x: [[10, 11], [12, 13]], y: 1 })}\n\n${JSON.stringify({ x: [14, 15, 16, 17], y: 2 })}\n`);
    // IDX pixels are bytes; idxScale 255 maps them to [0, 1]. Rank-3 images [n, 2, 2] fit shape [2, 2, 1].
    writeFileSync(join(dir, 'd-images-idx3-ubyte.gz'), gzipSync(idx([2, 2, 2], [0, 51, 102, 255, 255, 0, 153, 204])));
    writeFileSync(join(dir, 'd-labels-idx1-ubyte.gz'), gzipSync(idx([2], [2, 1])));
    writeFileSync(join(dir, 'e-images-idx3-ubyte'), idx([1, 2, 2], [255, 255, 255, 0]));
    writeFileSync(join(dir, 'e-labels-idx1-ubyte'), idx([1], [0]));
    writeFileSync(join(dir, 'README.txt'), 'not data, ignored');

    const r = readSampleDir(dir, { sampleShape: [2, 2, 1], numClasses: 3 }, 255);
    const rows = (n: number) => Array.from({ length: n }, (_, i) => Array.from(r.x.subarray(i * 4, i * 4 + 4)));
    const f = (v: number[]) => v.map((n) => Math.fround(n));
    expect(rows(9)).toEqual([
      f([0.1, 0.2, 0.3, 0.4]),
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      f([-1.5, 0.2, 0, 9]),
      [10, 11, 12, 13],
      [14, 15, 16, 17],
      f([0, 0.2, 0.4, 1]),
      f([1, 0, 0.6, 0.8]),
      [1, 1, 1, 0],
    ]);
    expect(r.x.length).toBe(9 * 4);
    expect(Array.from(r.y)).toEqual([0, 2, 1, 0, 1, 2, 2, 1, 0]);
    expect(r.files.map((p) => p.slice(dir.length + 1))).toEqual(['a-header.csv', 'b-plain.csv', 'c.jsonl', 'd-images-idx3-ubyte.gz', 'd-labels-idx1-ubyte.gz', 'e-images-idx3-ubyte', 'e-labels-idx1-ubyte']);
  });

  it('applies idxScale to IDX only', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'images-idx3-ubyte'), idx([1, 2, 2], [10, 20, 30, 40]));
    writeFileSync(join(dir, 'labels-idx1-ubyte'), idx([1], [1]));
    writeFileSync(join(dir, 't.csv'), '10,20,30,40,1\n');
    const r = readSampleDir(dir, image, 10);
    expect(Array.from(r.x)).toEqual([1, 2, 3, 4, 10, 20, 30, 40]);
  });

  it('refuses an IDX images file without its labels, or of the wrong shape', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'x-images-idx3-ubyte'), idx([1, 2, 2], [1, 2, 3, 4]));
    expect(() => readSampleDir(dir, image, 255)).toThrow(/x-images-idx3-ubyte: no label file x-labels-idx1-ubyte beside it/);
    writeFileSync(join(dir, 'x-labels-idx1-ubyte'), idx([1], [0]));
    expect(() => readSampleDir(dir, { sampleShape: [3, 3, 1], numClasses: 3 }, 255)).toThrow(/1 images of shape \[2,2\] with 1 labels; the agent expects shape \[3,3,1\]/);
    writeFileSync(join(dir, 'x-labels-idx1-ubyte'), idx([2], [0, 1]));
    expect(() => readSampleDir(dir, image, 255)).toThrow(SampleError);
  });

  it('refuses labels outside the classes and CSV labels that are not integers', () => {
    const d1 = freshDir();
    writeFileSync(join(d1, 'images-idx3-ubyte'), idx([1, 2, 2], [1, 2, 3, 4]));
    writeFileSync(join(d1, 'labels-idx1-ubyte'), idx([1], [7]));
    expect(() => readSampleDir(d1, image, 255)).toThrow(/label 7, outside 0\.\.2/);
    const d2 = freshDir();
    writeFileSync(join(d2, 'a.csv'), '1,2,3,4,0\n1,2,3,4,1.5\n');
    expect(() => readSampleDir(d2, table, 255)).toThrow(SampleError);
    expect(() => readSampleDir(d2, table, 255)).toThrow(/a\.csv: line 2: label 1\.5 is not an integer class in 0\.\.2/);
    const d3 = freshDir();
    writeFileSync(join(d3, 'a.csv'), 'w,x,y,z,label\n1,2,3,4,3\n');
    expect(() => readSampleDir(d3, table, 255)).toThrow(/a\.csv: line 2: label 3 is not an integer class in 0\.\.2/);
  });

  it('names the file and line of a bad CSV row or JSON line, and a missing directory', () => {
    const d1 = freshDir();
    writeFileSync(join(d1, 'a.csv'), '1,2,3,4,0\n1,2,3,0\n');
    expect(() => readSampleDir(d1, table, 255)).toThrow(/a\.csv: line 2 has 4 columns, expected 5/);
    const d2 = freshDir();
    writeFileSync(join(d2, 'a.jsonl'), '{"x": [1,2,3,4], "y": 0}\n{"x": [1,2,3,4], "y": 9}\n');
    expect(() => readSampleDir(d2, table, 255)).toThrow(/a\.jsonl: line 2: label 9 is not an integer class/);
    // A torn line in a user's data file is an error, not silently dropped (only the ingest file tolerates it).
    writeFileSync(join(d2, 'a.jsonl'), '{"x": [1,2,3,4], "y": 0}\n{"x": [1,2,');
    expect(() => readSampleDir(d2, table, 255)).toThrow(/a\.jsonl: line 2 is not valid JSON/);
    expect(() => readSampleDir(join(tmp, 'absent'), table, 255)).toThrow(/data directory .*absent does not exist/);
  });
});

describe('SampleStore', () => {
  const s = (x: number[], y: number) => ({ x, y });
  const values = (store: SampleStore) => ({ x: Array.from(store.dataset().x), y: Array.from(store.dataset().y) });

  it('stores a batch durably, all or nothing', () => {
    const file = join(freshDir(), 'samples', 'ingested.jsonl');
    const store = new SampleStore(table, file, { x: Float32Array.from([9, 9, 9, 9]), y: Int32Array.from([2]) });
    expect(store.size).toBe(1);
    expect(store.add([s([1, 2, 3, 4], 0), s([5, 6, 7, 8], 1)])).toBe(2);
    expect(store.size).toBe(3);
    const bytes = readFileSync(file);
    expect(bytes.toString().split('\n')).toEqual(['{"x":[1,2,3,4],"y":0}', '{"x":[5,6,7,8],"y":1}', '']);
    // A batch whose last sample is bad stores nothing: not in memory, not on disk.
    expect(() => store.add([s([0, 0, 0, 0], 1), s([0, 0, 0, 0], 2), s([0, 0, 0], 1)])).toThrow(/^sample 2: x has 3 values, expected 4/);
    expect(() => store.add([s([0, 0, 0, 0], 1), s([0, 0, 0, 0], 5)])).toThrow(/^sample 1: label 5/);
    expect(() => store.add([])).toThrow(SampleError);
    expect(() => store.add('nope' as unknown as unknown[])).toThrow(SampleError);
    expect(store.size).toBe(3);
    expect(store.pending).toBe(2);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(values(store)).toEqual({ x: [9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8], y: [2, 0, 1] });
    expect(store.histogram()).toEqual([1, 1, 1]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('reloads ingested samples after a restart, after the initial ones, and they are not "new"', () => {
    const file = join(freshDir(), 'ingested.jsonl');
    const a = new SampleStore(table, file);
    a.add([s([1, 2, 3, 4], 0)]);
    a.add([s([5, 6, 7, 8], 2), s([0.5, 0, 0, 0], 1)]);
    const b = new SampleStore(table, file, { x: Float32Array.from([9, 9, 9, 9]), y: Int32Array.from([1]) });
    expect(b.size).toBe(4);
    expect(b.droppedOnLoad).toBe(0);
    expect(b.pending).toBe(0);
    expect(values(b)).toEqual({ x: [9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 0.5, 0, 0, 0], y: [1, 0, 2, 1] });
  });

  it('drops a torn last line (a crash mid-append), keeps the rest, and appends cleanly after it', () => {
    const file = join(freshDir(), 'ingested.jsonl');
    const a = new SampleStore(table, file);
    a.add([s([1, 2, 3, 4], 0), s([5, 6, 7, 8], 1)]);
    appendFileSync(file, '{"x":[1,2,');
    const b = new SampleStore(table, file);
    expect(b.droppedOnLoad).toBe(1);
    expect(b.size).toBe(2);
    expect(values(b)).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: [0, 1] });
    // The agent keeps ingesting after the crash; the next restart must still load every line.
    b.add([s([0, 0, 0, 1], 2)]);
    const c = new SampleStore(table, file);
    expect(c.droppedOnLoad).toBe(0);
    expect(values(c)).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1], y: [0, 1, 2] });
  });

  it('a last line cut just before its newline is kept, and the next append starts a new line', () => {
    const file = join(freshDir(), 'ingested.jsonl');
    writeFileSync(file, '{"x":[1,2,3,4],"y":0}\n{"x":[5,6,7,8],"y":1}');
    const a = new SampleStore(table, file);
    expect(a.size).toBe(2);
    a.add([s([0, 0, 0, 1], 2)]);
    expect(values(new SampleStore(table, file))).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1], y: [0, 1, 2] });
  });

  it('refuses a damaged line that is not the last (real corruption, not a torn write)', () => {
    const file = join(freshDir(), 'ingested.jsonl');
    writeFileSync(file, '{"x":[1,2,3,4],"y":0}\n{"x":[1,2,\n{"x":[5,6,7,8],"y":1}\n');
    expect(() => new SampleStore(table, file)).toThrow(/ingested\.jsonl: line 2 is not valid JSON/);
  });

  it('takeNew returns the samples added since the previous call, then forgets them as new', () => {
    const file = join(freshDir(), 'ingested.jsonl');
    const store = new SampleStore(table, file, { x: new Float32Array(8), y: Int32Array.from([0, 0]) });
    expect(store.pending).toBe(0);
    const empty = store.takeNew();
    expect(empty.y.length).toBe(0);
    store.add([s([1, 1, 1, 1], 1)]);
    store.add([s([2, 2, 2, 2], 2), s([3, 3, 3, 3], 0)]);
    expect(store.pending).toBe(3);
    const fresh = store.takeNew();
    expect(fresh).toMatchObject({ name: 'new', sampleShape: [4], numClasses: 3 });
    expect(Array.from(fresh.x)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    expect(Array.from(fresh.y)).toEqual([1, 2, 0]);
    expect(store.pending).toBe(0);
    expect(store.takeNew().y.length).toBe(0);
    // A refused batch adds nothing to pending.
    expect(() => store.add([s([4, 4, 4, 4], 1), s([4], 1)])).toThrow(SampleError);
    expect(store.pending).toBe(0);
    store.add([s([5, 5, 5, 5], 2)]);
    expect(Array.from(store.takeNew().y)).toEqual([2]);
    // Everything is still in the full dataset.
    expect(store.size).toBe(6);
    expect(Array.from(store.dataset().y)).toEqual([0, 0, 1, 2, 0, 2]);
  });
});
