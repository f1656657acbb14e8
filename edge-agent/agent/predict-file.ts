/**
 * Inputs for `distillery agent predict <file>`: a JSON file (one sample, a list of samples, or
 * {"inputs": [...]}), JSON lines ({"x": [...]} or a bare array per line; "y" is used to score), a CSV
 * (features only, or features then a label), or an IDX images file (its labels file beside it is used
 * to score when present).
 */
import { existsSync, readFileSync } from 'node:fs';
import { readDataFile, splitLines, parseNumericRows } from '../../shared/data/csv.js';
import { readIdxFile } from '../../shared/data/idx.js';
import { DataError } from '../../shared/data/dataset.js';
import { checkSample, SampleError, type SampleFormat } from './samples.js';

export interface PredictInputs {
  x: Float32Array;
  /** Known labels, when the file carries them (to report accuracy). */
  y?: Int32Array;
}

export function readPredictInputs(file: string, format: SampleFormat, idxScale: number): PredictInputs {
  try {
    return readInputs(file, format, idxScale);
  } catch (e) {
    // The CSV and IDX readers' errors already name the file and line; one error type for callers.
    if (e instanceof DataError) throw new SampleError(e.message);
    throw e;
  }
}

function readInputs(file: string, format: SampleFormat, idxScale: number): PredictInputs {
  if (!existsSync(file)) throw new SampleError(`${file} does not exist`);
  const f = format.sampleShape.reduce((a, b) => a * b, 1);
  const fromList = (list: unknown[], where: (i: number) => string): PredictInputs => {
    if (list.length === 0) throw new SampleError(`${file}: holds no samples`);
    const x = new Float32Array(list.length * f);
    const labels: number[] = [];
    list.forEach((item, i) => {
      const s = typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as { x?: unknown; y?: unknown }) : { x: item };
      const hasLabel = s.y !== undefined;
      x.set(checkSample({ x: s.x, y: hasLabel ? s.y : 0 }, format, where(i)).x, i * f);
      if (hasLabel) labels.push(s.y as number);
    });
    return { x, y: labels.length === list.length ? Int32Array.from(labels) : undefined };
  };
  if (/idx\d-ubyte(\.gz)?$/.test(file)) {
    const images = readIdxFile(file);
    if (images.data.length !== images.shape[0] * f) throw new SampleError(`${file}: images of shape [${images.shape.slice(1)}] do not match data.sampleShape [${format.sampleShape}]`);
    const labelFile = file.replace('images', 'labels').replace(/idx\d-ubyte/, 'idx1-ubyte');
    const y = labelFile !== file && existsSync(labelFile) ? Int32Array.from(readIdxFile(labelFile).data) : undefined;
    return { x: Float32Array.from(images.data, (v) => v / idxScale), y: y && y.length === images.shape[0] ? y : undefined };
  }
  if (/\.csv(\.gz)?$/.test(file)) {
    const lines = splitLines(readDataFile(file, ''));
    // Letters make a header, except a first row of numbers in scientific notation (1e-3).
    const header = lines.length > 0 && /[A-Za-z_]/.test(lines[0]) && !/^[-+0-9.eE, ]+$/.test(lines[0]) ? 1 : 0;
    const columns = lines[header]?.split(',').length ?? 0;
    if (columns !== f && columns !== f + 1) throw new SampleError(`${file}: rows have ${columns} columns; expected ${f} features (or ${f} and a label)`);
    const t = parseNumericRows(lines.slice(header), { file, columns, firstLine: header + 1 });
    const x = new Float32Array(t.rows * f);
    for (let r = 0; r < t.rows; r++) for (let c = 0; c < f; c++) x[r * f + c] = t.values[r * columns + c];
    if (columns === f) return { x };
    const y = new Int32Array(t.rows);
    for (let r = 0; r < t.rows; r++) {
      const label = t.values[r * columns + f];
      if (!Number.isInteger(label) || label < 0 || label >= format.numClasses)
        throw new SampleError(`${file}: line ${header + r + 1}: label ${label} is not an integer class in 0..${format.numClasses - 1}`);
      y[r] = label;
    }
    return { x, y };
  }
  const text = readFileSync(file, 'utf8');
  if (/\.jsonl$/.test(file)) {
    const lines = text.split('\n').map((l, i) => [l, i] as const).filter(([l]) => l.trim() !== '');
    return fromList(lines.map(([l, i]) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new SampleError(`${file}: line ${i + 1} is not valid JSON (${(e as Error).message})`);
      }
    }), (i) => `${file}: line ${lines[i][1] + 1}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SampleError(`${file}: not valid JSON (${(e as Error).message}); use .json, .jsonl, .csv or an IDX file`);
  }
  const obj = value as { inputs?: unknown; x?: unknown };
  const list = Array.isArray(obj) ? (typeof obj[0] === 'number' ? [obj] : obj) : Array.isArray(obj?.inputs) ? obj.inputs : obj?.x !== undefined ? [obj] : undefined;
  if (!list) throw new SampleError(`${file}: expected a sample, a list of samples or {"inputs": [...]}`);
  // A single image given as nested rows is one sample, not a list of rows.
  const f0 = list[0];
  const isOneNested = Array.isArray(f0) && Array.isArray(value) && f0.flat(3).length * list.length === f && list.length !== 1;
  return fromList(isOneNested ? [value] : list, (i) => `${file}: sample ${i}`);
}
