import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BREAST_CANCER_FILE, loadBreastCancer } from '../../shared/data/breast-cancer.js';
import { DataError, labelHistogram } from '../../shared/data/dataset.js';
import { DIGITS_FILE, loadDigits } from '../../shared/data/digits.js';
import { tempFiles, thrown } from './tmp.js';

const write = tempFiles('loaders');
const digitsText = gunzipSync(readFileSync(DIGITS_FILE)).toString('utf8');
const digitsLines = digitsText.trimEnd().split('\n');
const cancerLines = readFileSync(BREAST_CANCER_FILE, 'utf8').trimEnd().split('\n');

/** The message of the DataError that loading `content` throws, after checking its code. */
function loadError(load: (file: string) => unknown, name: string, content: string | Uint8Array, code = 'corrupt-file'): string {
  const file = write(name, content);
  const e = thrown(() => load(file));
  expect(e).toBeInstanceOf(DataError);
  expect(e.code).toBe(code);
  expect(e.message.startsWith(file)).toBe(true);
  return e.message;
}

describe('loadDigits on the shipped file', () => {
  const d = loadDigits();

  it('has 1,797 8x8x1 images in 10 classes with the known class counts', () => {
    expect(d.name).toBe('digits');
    expect(d.sampleShape).toEqual([8, 8, 1]);
    expect(d.y.length).toBe(1797);
    expect(d.x.length).toBe(1797 * 64);
    expect(d.numClasses).toBe(10);
    expect(labelHistogram(d.y, 10)).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  });

  it('scales pixel counts 0..16 to [0, 1] by dividing by 16', () => {
    // Row 1 of the file starts 0,0,5,13,9,1 and is a zero.
    expect(Array.from(d.x.subarray(0, 6))).toEqual([0, 0, 5 / 16, 13 / 16, 9 / 16, 1 / 16]);
    expect(d.y[0]).toBe(0);
    expect(Math.max(...d.x)).toBe(1);
    expect(Math.min(...d.x)).toBe(0);
  });

  it('reads a plain (not gzipped) copy the same way', () => {
    const plain = loadDigits(write('digits.csv', digitsText));
    // Byte comparison: vitest's deep equality takes about a second on 115,008 floats.
    expect(Buffer.from(plain.x.buffer).equals(Buffer.from(d.x.buffer))).toBe(true);
    expect(Buffer.from(plain.y.buffer).equals(Buffer.from(d.y.buffer))).toBe(true);
  });
});

describe('loadDigits on damaged files', () => {
  const withLine = (n: number, line: string) => [...digitsLines.slice(0, n - 1), line, ...digitsLines.slice(n)].join('\n');

  it('explains how to get a missing file', () => {
    const e = thrown(() => loadDigits('/nonexistent/digits.csv.gz'));
    expect(e.code).toBe('missing-file');
    expect(e.message).toMatch(/^\/nonexistent\/digits\.csv\.gz does not exist\. .*git checkout -- data\/digits\.csv\.gz/);
  });

  it('rejects a truncated gzip file', () => {
    const gz = readFileSync(DIGITS_FILE);
    expect(loadError(loadDigits, 'trunc.csv.gz', gz.subarray(0, gz.length - 100))).toMatch(/gzip data is truncated or corrupt/);
  });

  it('names the line with the wrong column count', () => {
    const short = digitsLines[2].split(',').slice(1).join(',');
    expect(loadError(loadDigits, 'cols.csv', withLine(3, short))).toMatch(/: line 3 has 64 columns, expected 65$/);
  });

  it('names line and column of a non-numeric value', () => {
    const cells = digitsLines[9].split(',');
    cells[4] = 'x7';
    expect(loadError(loadDigits, 'nan.csv', withLine(10, cells.join(',')))).toMatch(/: line 10 column 5: 'x7' is not a number$/);
  });

  it('rejects a label out of range and a pixel above 16', () => {
    const label = digitsLines[0].replace(/,\d+$/, ',10');
    expect(loadError(loadDigits, 'label.csv', withLine(1, label))).toMatch(/: line 1: label 10 \(column 65\) is not an integer class in 0\.\.9$/);
    const pixel = digitsLines[1].replace(/^0,/, '17,');
    expect(loadError(loadDigits, 'pixel.csv', withLine(2, pixel))).toMatch(/: line 2 column 1: value 17 is outside 0\.\.16$/);
  });

  it('rejects an empty file', () => {
    expect(loadError(loadDigits, 'empty.csv', '')).toMatch(/no data rows/);
  });
});

describe('loadBreastCancer on the shipped file', () => {
  const d = loadBreastCancer();

  it('has 569 rows of 30 features, 212 malignant (0) and 357 benign (1)', () => {
    expect(d.name).toBe('breast-cancer');
    expect(d.sampleShape).toEqual([30]);
    expect(d.y.length).toBe(569);
    expect(d.x.length).toBe(569 * 30);
    expect(d.classNames).toEqual(['malignant', 'benign']);
    expect(labelHistogram(d.y, 2)).toEqual([212, 357]);
  });

  it('keeps raw feature values (first row: radius 17.99, worst area 2019)', () => {
    expect(d.x[0]).toBeCloseTo(17.99, 4);
    expect(d.x[23]).toBe(2019);
    expect(d.y[0]).toBe(0);
  });
});

describe('loadBreastCancer on damaged files', () => {
  const rows = cancerLines.slice(1, 4);
  const file = (header: string, body: string[]) => [header, ...body].join('\n') + '\n';

  it('explains how to get a missing file', () => {
    const e = thrown(() => loadBreastCancer('/nonexistent/breast_cancer.csv'));
    expect(e.code).toBe('missing-file');
    expect(e.message).toMatch(/git checkout -- data\/breast_cancer\.csv/);
  });

  it('rejects a row count that disagrees with the header', () => {
    expect(loadError(loadBreastCancer, 'rows.csv', file('569,30,malignant,benign', rows))).toMatch(
      /: header declares 569 rows but the file holds 3 \(truncated\?\)$/,
    );
    expect(loadBreastCancer(write('ok.csv', file('3,30,malignant,benign', rows))).y.length).toBe(3);
  });

  it('rejects a missing or mismatched header', () => {
    expect(loadError(loadBreastCancer, 'nohdr.csv', rows.join('\n'))).toMatch(/: line 1 must be a header 'rows,features,className,\.\.\.'/);
    expect(loadError(loadBreastCancer, 'hdr31.csv', file('3,31,malignant,benign', rows))).toMatch(/declares 31 features and 2 classes/);
  });

  it('counts lines from the header: the second data row is line 3', () => {
    const broken = [rows[0], rows[1].replace(/,0$/, ''), rows[2]];
    expect(loadError(loadBreastCancer, 'cols.csv', file('3,30,malignant,benign', broken))).toMatch(/: line 3 has 30 columns, expected 31$/);
    const bad = [rows[0], rows[1], rows[2].replace(/,[01]$/, ',2')];
    expect(loadError(loadBreastCancer, 'label.csv', file('3,30,malignant,benign', bad))).toMatch(/: line 4: label 2 \(column 31\)/);
  });
});
