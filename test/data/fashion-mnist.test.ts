/** The real Fashion-MNIST files (Debian's dataset-fashion-mnist) and the IDX reader's bad-input handling. */
import { afterAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadFashionMnist, fashionMnistDir } from '../../shared/data/fashion-mnist.js';
import { parseIdx, readIdxFile } from '../../shared/data/idx.js';
import { DataError, labelHistogram } from '../../shared/data/dataset.js';

const tmp = mkdtempSync(join(tmpdir(), 'distillery-idx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function idx(shape: number[], values: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(values)]);
}

function dataError(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

describe('Fashion-MNIST', () => {
  it('loads all 70,000 real images with balanced labels', () => {
    const train = loadFashionMnist('train');
    const test = loadFashionMnist('test');
    expect(train.y.length).toBe(60000);
    expect(test.y.length).toBe(10000);
    expect(train.x.length).toBe(60000 * 784);
    expect(train.sampleShape).toEqual([28, 28, 1]);
    expect(labelHistogram(train.y, 10)).toEqual(new Array(10).fill(6000));
    expect(labelHistogram(test.y, 10)).toEqual(new Array(10).fill(1000));
    let max = 0;
    for (const v of train.x.subarray(0, 784 * 100)) max = Math.max(max, v);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
    // The first training image is an ankle boot (label 9) in every published copy of the data set.
    expect(train.y[0]).toBe(9);
  });

  it('says how to get the files when they are missing', () => {
    const e = dataError(() => loadFashionMnist('test', { dir: join(tmp, 'nowhere') }));
    expect(e.code).toBe('missing-file');
    expect(e.message).toMatch(/t10k-images-idx3-ubyte.gz does not exist\. Install Debian's package with `sudo apt-get install dataset-fashion-mnist`/);
    expect(e.message).toMatch(/FASHION_MNIST_DIR/);
  });

  it('rejects truncated gzip, truncated data and mismatched label files', () => {
    const dir = join(tmp, 'broken');
    rmSync(dir, { recursive: true, force: true });
    const src = fashionMnistDir();
    const gz = readFileSync(join(src, 't10k-images-idx3-ubyte.gz'));
    const write = (name: string, bytes: Uint8Array) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, name), bytes);
    };
    write('t10k-images-idx3-ubyte.gz', gz.subarray(0, gz.length / 2));
    copyFileSync(join(src, 't10k-labels-idx1-ubyte.gz'), join(dir, 't10k-labels-idx1-ubyte.gz'));
    expect(dataError(() => loadFashionMnist('test', { dir })).message).toMatch(/t10k-images-idx3-ubyte.gz: gzip data is truncated or corrupt/);

    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(idx([2, 28, 28], new Array(784 * 2).fill(7))));
    expect(dataError(() => loadFashionMnist('test', { dir })).message).toMatch(/10000 labels for 2 images/);
  });
});

describe('IDX reader', () => {
  it('parses a hand-made file', () => {
    const a = parseIdx(idx([2, 3], [1, 2, 3, 4, 5, 6]), 'x');
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('names the problem in corrupt files', () => {
    expect(dataError(() => parseIdx(new Uint8Array([0, 0]), 'f')).message).toBe('f: 2 bytes is too short for an IDX header');
    expect(dataError(() => parseIdx(new Uint8Array([1, 2, 8, 1, 0, 0, 0, 1, 5]), 'f')).message).toMatch(/not an IDX file/);
    expect(dataError(() => parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 1, 5]), 'f')).message).toMatch(/element type 0xd is not supported/);
    expect(dataError(() => parseIdx(idx([2, 3], [1, 2, 3]), 'f')).message).toBe('f: IDX header declares shape [2, 3] = 6 values but the file holds 3 (truncated)');
    expect(dataError(() => parseIdx(idx([1], [1, 2]), 'f')).message).toMatch(/trailing bytes/);
    const file = join(tmp, 'plain.idx');
    writeFileSync(file, idx([1, 2], [9, 8]));
    expect(Array.from(readIdxFile(file).data)).toEqual([9, 8]);
  });
});
