import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { featuresAndLabels, parseNumericRows, readDataFile, splitLines } from '../../shared/data/csv.js';
import { DataError } from '../../shared/data/dataset.js';
import { tempFiles, thrown } from './tmp.js';

const write = tempFiles('csv');

describe('splitLines', () => {
  it('handles LF and CRLF and drops only the trailing empty lines', () => {
    expect(splitLines('a\r\nb\n\nc\n\n')).toEqual(['a', 'b', '', 'c']);
    expect(splitLines('')).toEqual([]);
  });
});

describe('parseNumericRows', () => {
  it('parses decimals, signs and exponents into a row-major table with its first line number', () => {
    const t = parseNumericRows(['1,-2.5,3e2', '.5, 0 ,+7'], { file: 'f.csv', columns: 3, firstLine: 2 });
    expect(t.rows).toBe(2);
    expect(t.firstLine).toBe(2);
    expect(Array.from(t.values)).toEqual([1, -2.5, 300, 0.5, 0, 7]);
  });

  it.each([
    ['', 'an empty cell'],
    ['0x10', 'hex'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['1.2.3', 'two dots'],
  ])("rejects '%s' (%s) naming line and column", (cell) => {
    const e = thrown(() => parseNumericRows(['1,2,3', `4,${cell},6`], { file: 'f.csv', columns: 3, firstLine: 5 }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.code).toBe('corrupt-file');
    expect(e.message).toBe(`f.csv: line 6 column 2: '${cell}' is not a number`);
  });

  it('reports a wrong column count and an empty line by line number', () => {
    expect(() => parseNumericRows(['1,2', '1,2,3'], { file: 'f.csv', columns: 2 })).toThrow('f.csv: line 2 has 3 columns, expected 2');
    expect(() => parseNumericRows(['1,2', ' '], { file: 'f.csv', columns: 2 })).toThrow('f.csv: line 2 is empty');
    expect(() => parseNumericRows([], { file: 'f.csv', columns: 2 })).toThrow('f.csv: no data rows');
  });
});

describe('featuresAndLabels', () => {
  const table = (rows: string[]) => parseNumericRows(rows, { file: 'f.csv', columns: 3, firstLine: 4 });

  it('splits off the last column as int32 labels', () => {
    const { x, y } = featuresAndLabels(table(['0.5,2,1', '3,4,0']), { file: 'f.csv', numClasses: 2 });
    expect(Array.from(x)).toEqual([0.5, 2, 3, 4]);
    expect(Array.from(y)).toEqual([1, 0]);
  });

  it('rejects out-of-range and fractional labels and out-of-range features', () => {
    expect(() => featuresAndLabels(table(['1,2,0', '1,2,2']), { file: 'f.csv', numClasses: 2 })).toThrow(
      'f.csv: line 5: label 2 (column 3) is not an integer class in 0..1',
    );
    expect(() => featuresAndLabels(table(['1,2,0.5']), { file: 'f.csv', numClasses: 2 })).toThrow('label 0.5');
    // Without a range any finite feature is fine; with one, both ends are checked.
    expect(featuresAndLabels(table(['1,-2,0']), { file: 'f.csv', numClasses: 2 }).x[1]).toBe(-2);
    expect(() => featuresAndLabels(table(['1,-2,0']), { file: 'f.csv', numClasses: 2, featureRange: [0, 16] })).toThrow('line 4 column 2: value -2');
    expect(() => featuresAndLabels(table(['1,20,0']), { file: 'f.csv', numClasses: 2, featureRange: [0, 16] })).toThrow(
      'f.csv: line 4 column 2: value 20 is outside 0..16',
    );
  });
});

describe('readDataFile', () => {
  it('reads plain text, strips a byte-order mark, and gunzips by magic number', () => {
    expect(readDataFile(write('plain.csv', '\ufeff1,2\n'), '')).toBe('1,2\n');
    expect(readDataFile(write('zipped.bin', gzipSync('3,4\n')), '')).toBe('3,4\n');
  });

  it('says a missing file does not exist and how to get it', () => {
    const e = thrown(() => readDataFile('/nonexistent/dir/x.csv', 'Try the shop.'));
    expect(e.code).toBe('missing-file');
    expect(e.message).toBe('/nonexistent/dir/x.csv does not exist. Try the shop.');
  });

  it('rejects truncated, corrupt and non-gzip .gz files', () => {
    const gz = gzipSync('1,2,3\n'.repeat(2000));
    const truncated = write('t.csv.gz', gz.subarray(0, gz.length >> 1));
    expect(thrown(() => readDataFile(truncated, '')).message).toBe(`${truncated}: gzip data is truncated or corrupt (unexpected end of file)`);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 12, 40);
    const e = thrown(() => readDataFile(write('c.csv.gz', corrupt), ''));
    expect(e.code).toBe('corrupt-file');
    expect(e.message).toMatch(/gzip data is truncated or corrupt/);
    expect(() => readDataFile(write('p.csv.gz', '1,2,3\n'), '')).toThrow('not gzip data');
  });
});
