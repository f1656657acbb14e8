/**
 * The agent's local samples: the initial data directory plus every labeled sample ingested since, kept in
 * memory for training and on disk for restarts. Ingested samples are appended to one JSON-lines file with
 * fsync before they are acknowledged, so an acknowledged sample survives a crash; a batch is checked as a
 * whole first, so a bad sample rejects its batch and nothing already stored changes. These samples never
 * leave the device: nothing in this module talks to the network.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Dataset } from '../../shared/data/dataset.js';
import { stratifiedSplitIndices } from '../../shared/data/split.js';
import { readIdxFile } from '../../shared/data/idx.js';
import { parseNumericRows, readDataFile, splitLines } from '../../shared/data/csv.js';

/** A sample or data file the agent refuses; the message names the sample or file and what is wrong. */
export class SampleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SampleError';
  }
}

/** What a sample must look like. */
export interface SampleFormat {
  sampleShape: number[];
  numClasses: number;
}

/** One labeled sample as it arrives (JSON). */
export interface RawSample {
  x: unknown;
  y: unknown;
}

const featuresOf = (f: SampleFormat) => f.sampleShape.reduce((a, b) => a * b, 1);

/** Flattens nested arrays (an image as rows of pixels) into numbers; undefined when not an array of numbers. */
function flatNumbers(v: unknown, out: number[] = []): number[] | undefined {
  if (typeof v === 'number') {
    out.push(v);
    return out;
  }
  if (!Array.isArray(v)) return undefined;
  for (const e of v) if (!flatNumbers(e, out)) return undefined;
  return out;
}

/** Checks one sample; returns its features. `where` names it in errors ("sample 3"). */
export function checkSample(s: unknown, format: SampleFormat, where: string): { x: Float32Array; y: number } {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new SampleError(`${where}: must be an object {"x": [...features], "y": label}`);
  const { x, y } = s as RawSample;
  const k = format.numClasses;
  if (!Number.isInteger(y) || (y as number) < 0 || (y as number) >= k) throw new SampleError(`${where}: label ${JSON.stringify(y)} is not an integer class in 0..${k - 1}`);
  const values = flatNumbers(x);
  if (!values) throw new SampleError(`${where}: x must be an array of numbers (nested arrays allowed), got ${typeof x === 'object' ? 'an array with non-numbers' : JSON.stringify(x)}`);
  const n = featuresOf(format);
  if (values.length !== n) throw new SampleError(`${where}: x has ${values.length} values, expected ${n} (shape [${format.sampleShape.join(', ')}])`);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new SampleError(`${where}: x[${bad}] is ${values[bad]}, not a finite number`);
  return { x: Float32Array.from(values), y: y as number };
}

/** Reads every sample file in `dir`: IDX pairs (*images* with *labels*), *.csv (label last) and *.jsonl. */
export function readSampleDir(dir: string, format: SampleFormat, idxScale: number): { x: Float32Array; y: Int32Array; files: string[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SampleError(`data directory ${dir} does not exist`);
  const names = readdirSync(dir).sort();
  const xs: Float32Array[] = [];
  const ys: Int32Array[] = [];
  const used: string[] = [];
  const f = featuresOf(format);
  for (const name of names) {
    const file = join(dir, name);
    if (/images.*idx\d-ubyte(\.gz)?$/.test(name)) {
      const labelName = name.replace('images', 'labels').replace(/idx\d-ubyte/, 'idx1-ubyte');
      const labelFile = join(dir, labelName);
      if (!existsSync(labelFile)) throw new SampleError(`${file}: no label file ${labelName} beside it`);
      const images = readIdxFile(file);
      const labels = readIdxFile(labelFile);
      const n = images.shape[0];
      if (labels.shape[0] !== n || images.data.length !== n * f)
        throw new SampleError(`${file}: ${n} images of shape [${images.shape.slice(1)}] with ${labels.shape[0]} labels; the agent expects shape [${format.sampleShape}]`);
      // A plain loop: Float32Array.from(bytes, fn) goes through the iterator protocol and can hold
      // hundreds of MB of boxed numbers for a 10k-image file before it returns.
      const x = new Float32Array(images.data.length);
      for (let i = 0; i < x.length; i++) x[i] = images.data[i] / idxScale;
      const y = new Int32Array(n);
      for (let i = 0; i < n; i++) y[i] = labels.data[i];
      xs.push(x);
      ys.push(y);
      used.push(file, labelFile);
    } else if (/\.csv(\.gz)?$/.test(name)) {
      const lines = splitLines(readDataFile(file, ''));
      const header = lines.length > 0 && /[A-Za-z_]/.test(lines[0]) && !/^[-+0-9.eE, ]+$/.test(lines[0]) ? 1 : 0;
      const t = parseNumericRows(lines.slice(header), { file, columns: f + 1, firstLine: header + 1 });
      const x = new Float32Array(t.rows * f);
      const y = new Int32Array(t.rows);
      for (let r = 0; r < t.rows; r++) {
        for (let c = 0; c < f; c++) x[r * f + c] = t.values[r * (f + 1) + c];
        const label = t.values[r * (f + 1) + f];
        // Checked here: an Int32Array would silently truncate 1.5 to 1.
        if (!Number.isInteger(label) || label < 0 || label >= format.numClasses)
          throw new SampleError(`${file}: line ${header + r + 1}: label ${label} is not an integer class in 0..${format.numClasses - 1}`);
        y[r] = label;
      }
      xs.push(x);
      ys.push(y);
      used.push(file);
    } else if (/\.jsonl$/.test(name)) {
      const { x, y } = parseJsonLines(readFileSync(file, 'utf8'), format, file, false);
      xs.push(x);
      ys.push(y);
      used.push(file);
    }
  }
  const y = concatInt(ys);
  const bad = y.findIndex((v) => !(v >= 0 && v < format.numClasses));
  if (bad >= 0) throw new SampleError(`${dir}: sample ${bad} has label ${y[bad]}, outside 0..${format.numClasses - 1}`);
  return { x: concatFloat(xs), y, files: used };
}

/** Parses JSON lines of {"x", "y"}; with `tolerateTornTail`, a damaged last line (a write cut short) is dropped. */
function parseJsonLines(text: string, format: SampleFormat, file: string, tolerateTornTail: boolean): { x: Float32Array; y: Int32Array; dropped: number } {
  const lines = text.split('\n');
  const f = featuresOf(format);
  const x: number[] = [];
  const y: number[] = [];
  let dropped = 0;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let s: { x: Float32Array; y: number };
    try {
      s = checkSample(JSON.parse(line), format, `${file}: line ${i + 1}`);
    } catch (e) {
      const last = lines.slice(i + 1).every((l) => l.trim() === '');
      if (tolerateTornTail && last) {
        dropped++;
        return;
      }
      throw e instanceof SampleError ? e : new SampleError(`${file}: line ${i + 1} is not valid JSON (${(e as Error).message})`);
    }
    for (let j = 0; j < f; j++) x.push(s.x[j]);
    y.push(s.y);
  });
  return { x: Float32Array.from(x), y: Int32Array.from(y), dropped };
}

/** Joins typed-array chunks; a single chunk is returned as it is (no copy). */
function concat<T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T {
  if (parts.length === 1) return parts[0];
  const out = make(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const concatFloat = (parts: Float32Array[]) => concat(parts, (n) => new Float32Array(n));
const concatInt = (parts: Int32Array[]) => concat(parts, (n) => new Int32Array(n));

/** Reorders rows in place so that row i becomes old row order[i] (cycle by cycle, one row of scratch). */
export function permuteRows(x: Float32Array, y: Int32Array, order: Int32Array, f: number): void {
  const done = new Uint8Array(order.length);
  const row = new Float32Array(f);
  for (let start = 0; start < order.length; start++) {
    if (done[start] || order[start] === start) continue;
    row.set(x.subarray(start * f, (start + 1) * f));
    const label = y[start];
    let i = start;
    for (;;) {
      done[i] = 1;
      const from = order[i];
      if (from === start) {
        x.set(row, i * f);
        y[i] = label;
        break;
      }
      x.copyWithin(i * f, from * f, (from + 1) * f);
      y[i] = y[from];
      i = from;
    }
  }
}

/** Local samples in memory, with ingested ones persisted to `ingestFile`. */
export class SampleStore {
  private xs: Float32Array[] = [];
  private ys: Int32Array[] = [];
  private cached?: Dataset;
  private count = 0;
  private released = false;
  /** Samples added since the last call to takeNew (the lifelong learner's next update). */
  private fresh: { x: Float32Array[]; y: Int32Array[] } = { x: [], y: [] };
  /** Damaged trailing lines dropped while loading the ingest file (a crash mid-append). */
  readonly droppedOnLoad: number = 0;

  constructor(
    readonly format: SampleFormat,
    readonly ingestFile: string,
    initial?: { x: Float32Array; y: Int32Array },
  ) {
    if (initial && initial.y.length) this.push(initial.x, initial.y, false);
    if (existsSync(ingestFile)) {
      const text = readFileSync(ingestFile, 'utf8');
      const r = parseJsonLines(text, format, ingestFile, true);
      this.droppedOnLoad = r.dropped;
      if (r.y.length) this.push(r.x, r.y, false);
      // Repair the tail before anything is appended: otherwise the next acknowledged batch would be glued
      // onto the torn (or newline-less) last line and lost, or break the file, on the next load.
      if (r.dropped) {
        const body = text.trimEnd();
        truncateSync(ingestFile, Buffer.byteLength(body.slice(0, body.lastIndexOf('\n') + 1)));
      } else if (text.length > 0 && !text.endsWith('\n')) {
        appendFileSync(ingestFile, '\n');
      }
    }
  }

  get size(): number {
    return this.count;
  }

  /** Samples ingested since the last takeNew. */
  get pending(): number {
    return this.fresh.y.reduce((a, y) => a + y.length, 0);
  }

  private push(x: Float32Array, y: Int32Array, fresh: boolean): void {
    if (!this.released) this.xs.push(x);
    this.ys.push(y);
    this.count += y.length;
    this.cached = undefined;
    if (fresh) {
      this.fresh.x.push(x);
      this.fresh.y.push(y);
    }
  }

  /**
   * Checks every sample, then appends them durably (fsync) and adds them to memory. Throws SampleError
   * naming the first bad sample, in which case nothing is stored.
   */
  add(samples: unknown[]): number {
    if (!Array.isArray(samples) || samples.length === 0) throw new SampleError('samples: must be a non-empty array of {"x": [...], "y": label}');
    const checked = samples.map((s, i) => checkSample(s, this.format, `sample ${i}`));
    const f = featuresOf(this.format);
    const x = new Float32Array(checked.length * f);
    checked.forEach((s, i) => x.set(s.x, i * f));
    const y = Int32Array.from(checked, (s) => s.y);
    const text = checked.map((s) => JSON.stringify({ x: Array.from(s.x), y: s.y })).join('\n') + '\n';
    mkdirSync(dirname(this.ingestFile), { recursive: true });
    const fd = openSync(this.ingestFile, 'a', 0o600);
    try {
      const bytes = Buffer.from(text);
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.push(x, y, true);
    return checked.length;
  }

  /** Every sample, as one dataset. */
  dataset(name = 'local'): Dataset {
    if (this.released) throw new Error('SampleStore: sample values were released after start-up; read them from disk');
    if (!this.cached || this.cached.name !== name) {
      const x = concatFloat(this.xs);
      const y = concatInt(this.ys);
      // Keep one copy: the chunks are replaced by their concatenation (a Pi has little memory to spare).
      this.xs = [x];
      this.ys = [y];
      this.cached = { name, sampleShape: [...this.format.sampleShape], numClasses: this.format.numClasses, x, y };
    }
    return this.cached;
  }

  /** The samples ingested since the previous call, and forgets them as "new". */
  takeNew(): Dataset {
    const d: Dataset = { name: 'new', sampleShape: [...this.format.sampleShape], numClasses: this.format.numClasses, x: concatFloat(this.fresh.x), y: concatInt(this.fresh.y) };
    this.fresh = { x: [], y: [] };
    return d;
  }

  histogram(): number[] {
    const h = new Array<number>(this.format.numClasses).fill(0);
    for (const y of this.ys) for (const c of y) h[c]++;
    return h;
  }

  /**
   * Puts a stratified held-out slice of `fraction` at the end of the in-memory rows (a seeded permutation,
   * done in place one row at a time, so no second copy of the data exists) and returns both parts as
   * views. Fewer than two samples per present class: no held-out slice.
   */
  splitForHoldOut(fraction: number, seed: number): { train: Dataset; heldOut: Dataset } {
    const all = this.dataset();
    const n = all.y.length;
    const present = new Set(all.y).size;
    let order: Int32Array;
    let nTrain = n;
    if (fraction > 0 && n >= 2 * Math.max(2, present)) {
      const s = stratifiedSplitIndices(all.y, all.numClasses, { testFraction: fraction, seed });
      order = new Int32Array(n);
      order.set(s.train, 0);
      order.set(s.test, s.train.length);
      nTrain = s.train.length;
      permuteRows(all.x, all.y, order, featuresOf(this.format));
    }
    const f = featuresOf(this.format);
    const view = (name: string, from: number, to: number): Dataset => ({ name, sampleShape: all.sampleShape, numClasses: all.numClasses, x: all.x.subarray(from * f, to * f), y: all.y.subarray(from, to) });
    return { train: view('local/train', 0, nTrain), heldOut: view('local/held-out', nTrain, n) };
  }

  /**
   * Drops the sample values from memory (labels stay, for the histogram): after start-up the agent needs
   * only the held-out slice, the calibration samples and the replay memory, each its own copy. The
   * samples stay on disk, and new ones still arrive through add().
   */
  releaseValues(): void {
    this.xs = [];
    this.cached = undefined;
    this.released = true;
  }
}
