/**
 * Input files for `distillery agent predict`: JSON (one sample, a list, {"inputs": ...}, nested images),
 * JSON lines with labels, CSV with and without a label column (and with or without a header), IDX, and
 * bad files refused with a SampleError that names the file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readPredictInputs } from '../../../edge-agent/agent/predict-file.js';
import { SampleError } from '../../../edge-agent/agent/samples.js';

const tmp = mkdtempSync(join(tmpdir(), 'distillery-agent-predict-file-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const table = { sampleShape: [4], numClasses: 3 };
const image = { sampleShape: [2, 2, 1], numClasses: 3 };
const file = (name: string, text: string | Buffer) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const read = (p: string, format = table, scale = 255) => {
  const r = readPredictInputs(p, format, scale);
  return { x: Array.from(r.x), y: r.y && Array.from(r.y) };
};

describe('readPredictInputs', () => {
  it('.json: one sample, as {"x": ...} or a bare array', () => {
    expect(read(file('one.json', '{"x": [1, 2, 3, 4.5]}'))).toEqual({ x: [1, 2, 3, 4.5], y: undefined });
    expect(read(file('one-labeled.json', '{"x": [1, 2, 3, 4], "y": 2}'))).toEqual({ x: [1, 2, 3, 4], y: [2] });
    expect(read(file('bare.json', '[1, 2, 3, 4]'))).toEqual({ x: [1, 2, 3, 4], y: undefined });
  });

  it('.json: a list of samples, bare or as objects; labels only when every sample has one', () => {
    expect(read(file('list.json', '[[1, 2, 3, 4], [5, 6, 7, 8]]'))).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: undefined });
    expect(read(file('objs.json', '[{"x": [1, 2, 3, 4], "y": 0}, {"x": [5, 6, 7, 8], "y": 2}]'))).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: [0, 2] });
    expect(read(file('some.json', '[{"x": [1, 2, 3, 4], "y": 0}, {"x": [5, 6, 7, 8]}]'))).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: undefined });
  });

  it('.json: {"inputs": [...]}', () => {
    expect(read(file('inputs.json', '{"inputs": [[1, 2, 3, 4], [0, 0, 0, 1], [9, 9, 9, 9]]}'))).toEqual({ x: [1, 2, 3, 4, 0, 0, 0, 1, 9, 9, 9, 9], y: undefined });
  });

  it('.json: images as nested rows, one or several', () => {
    expect(read(file('img.json', '[[1, 2], [3, 4]]'), image)).toEqual({ x: [1, 2, 3, 4], y: undefined });
    expect(read(file('imgs.json', '[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]'), image)).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: undefined });
    expect(read(file('img-inputs.json', '{"inputs": [[[[1], [2]], [[3], [4]]]]}'), image)).toEqual({ x: [1, 2, 3, 4], y: undefined });
  });

  it('.jsonl: one sample per line, labels used, blank lines skipped', () => {
    const p = file('s.jsonl', '{"x": [1, 2, 3, 4], "y": 1}\n\n{"x": [5, 6, 7, 8], "y": 0}\n');
    expect(read(p)).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: [1, 0] });
    expect(read(file('bare.jsonl', '[1, 2, 3, 4]\n[5, 6, 7, 8]\n'))).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: undefined });
  });

  it('.csv: features only, or features then a label, with or without a header', () => {
    expect(read(file('f.csv', '1,2,3,4\n5,6,7,8\n'))).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: undefined });
    expect(read(file('fl.csv', 'a,b,c,d,label\n1,2,3,4,2\n5,6,7,8,0\n'))).toEqual({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: [2, 0] });
    expect(read(file('fh.csv', 'a,b,c,d\n1,2,3,4\n'))).toEqual({ x: [1, 2, 3, 4], y: undefined });
    // Scientific notation in the first row is data, not a header.
    expect(read(file('sci.csv', '1e-3,2,3,4\n5,6,7,8E2\n'))).toEqual({ x: [Math.fround(1e-3), 2, 3, 4, 5, 6, 7, 800], y: undefined });
  });

  it('IDX images, scaled, with their labels file when it is beside them', () => {
    const idx = (shape: number[], data: number[]) => {
      const head = Buffer.alloc(4 + 4 * shape.length);
      head[2] = 8;
      head[3] = shape.length;
      shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
      return Buffer.concat([head, Uint8Array.from(data)]);
    };
    const p = file('q-images-idx3-ubyte', idx([2, 2, 2], [0, 255, 51, 102, 255, 255, 0, 0]));
    expect(read(p, image)).toEqual({ x: [0, 1, 0.2, 0.4, 1, 1, 0, 0].map(Math.fround), y: undefined });
    file('q-labels-idx1-ubyte', idx([2], [1, 2]));
    expect(read(p, image)).toEqual({ x: [0, 1, 0.2, 0.4, 1, 1, 0, 0].map(Math.fround), y: [1, 2] });
    expect(() => readPredictInputs(p, { sampleShape: [3], numClasses: 3 }, 255)).toThrow(/q-images-idx3-ubyte: images of shape \[2,2\] do not match data.sampleShape \[3\]/);
  });

  const bad: [string, string, string, RegExp][] = [
    ['a CSV row with the wrong number of features', 'w.csv', '1,2,3\n4,5,6\n', /w\.csv: rows have 3 columns; expected 4 features \(or 4 and a label\)/],
    ['a CSV whose later row is short', 'w2.csv', '1,2,3,4\n5,6,7\n', /w2\.csv: line 2 has 3 columns, expected 4/],
    ['a CSV label outside the classes', 'w3.csv', '1,2,3,4,7\n', /w3\.csv: line 1: label 7 is not an integer class in 0\.\.2/],
    ['a CSV label that is not an integer', 'w4.csv', 'a,b,c,d,y\n1,2,3,4,1\n1,2,3,4,0.5\n', /w4\.csv: line 3: label 0\.5 is not an integer class/],
    ['a JSON sample with the wrong number of features', 'w.json', '[[1, 2, 3, 4], [1, 2, 3]]', /w\.json: sample 1: x has 3 values, expected 4/],
    ['a JSON label outside the classes', 'wl.json', '[{"x": [1, 2, 3, 4], "y": 3}]', /wl\.json: sample 0: label 3/],
    ['a JSON-lines sample with the wrong number of features', 'w.jsonl', '{"x": [1, 2, 3, 4]}\n\n{"x": [1, 2, 3, 4, 5]}\n', /w\.jsonl: line 3: x has 5 values, expected 4/],
    ['a JSON line that is not JSON', 'b.jsonl', '{"x": [1, 2, 3, 4]}\n{"x": [1,\n', /b\.jsonl: line 2 is not valid JSON/],
    ['a JSON file that is not JSON', 'b.json', '{"inputs": [', /b\.json: not valid JSON/],
    ['a JSON object without inputs', 'o.json', '{"data": [1, 2, 3, 4]}', /o\.json: expected a sample, a list of samples or \{"inputs": \[\.\.\.\]\}/],
    ['an empty list', 'e.json', '[]', /e\.json: holds no samples/],
    ['strings as features', 's.json', '[["1", "2", "3", "4"]]', /s\.json: sample 0: x must be an array of numbers/],
  ];
  for (const [name, fname, text, message] of bad) {
    it(`refuses ${name}, naming the file`, () => {
      const p = file(fname, text);
      let error: unknown;
      try {
        readPredictInputs(p, table, 255);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SampleError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(p);
    });
  }

  it('refuses a missing file', () => {
    expect(() => readPredictInputs(join(tmp, 'absent.json'), table, 255)).toThrow(SampleError);
    expect(() => readPredictInputs(join(tmp, 'absent.json'), table, 255)).toThrow(/absent\.json does not exist/);
  });
});
