/**
 * A strict reader for the small numeric CSV files Distillery ships (digits, breast cancer).
 *
 * Strict on purpose: `Number('')` is 0 and `Number('0x1f')` is 31, so a lenient parse would turn a damaged
 * file into silently wrong training data. Every problem becomes a DataError naming the file, the 1-based
 * line and, where it applies, the 1-based column.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './dataset.js';

/** A dense row-major table of numbers parsed from CSV text. */
export interface NumericTable {
  rows: number;
  columns: number;
  /** rows * columns values, row-major; float64 so integer labels and raw features survive exactly. */
  values: Float64Array;
  /** 1-based file line of row 0 (rows are consecutive lines), so callers can report line numbers too. */
  firstLine: number;
}

// Plain decimal or scientific notation only: no hex, no empty cells, no 'Infinity', no 'NaN'.
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Reads a data file as UTF-8 text, gunzipping it when it starts with the gzip magic number (or must,
 * because its name ends in .gz). `howToGet` is appended to the missing-file message.
 */
export function readDataFile(file: string, howToGet: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
      throw new DataError('missing-file', `${file} does not exist. ${howToGet}`);
    }
    throw new DataError('missing-file', `${file} cannot be read (${err.code ?? err.message}). ${howToGet}`);
  }
  const gzipMagic = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (file.endsWith('.gz') && !gzipMagic) {
    throw new DataError('corrupt-file', `${file}: not gzip data (${bytes.length} bytes without the gzip magic number)`);
  }
  if (gzipMagic) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataError('corrupt-file', `${file}: gzip data is truncated or corrupt (${(e as Error).message})`);
    }
  }
  // Strip a UTF-8 byte-order mark, which spreadsheet exports like to add and which would break line 1.
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Splits text into lines (LF or CRLF), dropping only the empty tail left by a final newline. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Parses `lines` (file lines starting at 1-based `firstLine`) as comma-separated numbers, each row with
 * exactly `columns` cells. `file` is only used in error messages.
 */
export function parseNumericRows(lines: string[], options: { file: string; columns: number; firstLine?: number }): NumericTable {
  const { file, columns } = options;
  const firstLine = options.firstLine ?? 1;
  if (lines.length === 0) throw new DataError('corrupt-file', `${file}: no data rows (the file is empty or holds only a header)`);
  const values = new Float64Array(lines.length * columns);
  for (let r = 0; r < lines.length; r++) {
    const lineNo = firstLine + r;
    const line = lines[r];
    if (line.trim() === '') throw new DataError('corrupt-file', `${file}: line ${lineNo} is empty`);
    const cells = line.split(',');
    if (cells.length !== columns) {
      throw new DataError('corrupt-file', `${file}: line ${lineNo} has ${cells.length} columns, expected ${columns}`);
    }
    for (let c = 0; c < columns; c++) {
      const cell = cells[c].trim();
      if (!NUMBER.test(cell)) {
        const shown = cell.length > 20 ? `${cell.slice(0, 20)}…` : cell;
        throw new DataError('corrupt-file', `${file}: line ${lineNo} column ${c + 1}: '${shown}' is not a number`);
      }
      values[r * columns + c] = Number(cell);
    }
  }
  return { rows: lines.length, columns, values, firstLine };
}

/**
 * Splits a table whose last column is the class label into float32 features and int32 labels, checking
 * every label is an integer in [0, numClasses) and, if given, every feature lies in `featureRange`.
 */
export function featuresAndLabels(
  table: NumericTable,
  options: { file: string; numClasses: number; featureRange?: [number, number] },
): { x: Float32Array; y: Int32Array } {
  const { file, numClasses, featureRange } = options;
  const f = table.columns - 1;
  const x = new Float32Array(table.rows * f);
  const y = new Int32Array(table.rows);
  for (let r = 0; r < table.rows; r++) {
    const row = r * table.columns;
    for (let c = 0; c < f; c++) {
      const v = table.values[row + c];
      if (featureRange && (v < featureRange[0] || v > featureRange[1])) {
        throw new DataError(
          'corrupt-file',
          `${file}: line ${table.firstLine + r} column ${c + 1}: value ${v} is outside ${featureRange[0]}..${featureRange[1]}`,
        );
      }
      x[r * f + c] = v;
    }
    const label = table.values[row + f];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new DataError(
        'corrupt-file',
        `${file}: line ${table.firstLine + r}: label ${label} (column ${f + 1}) is not an integer class in 0..${numClasses - 1}`,
      );
    }
    y[r] = label;
  }
  return { x, y };
}
