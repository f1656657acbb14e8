/** The int8 model file: exact round trips, size, and refusal of damaged or malformed files. */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
import { saveModel, WEIGHTS_BIN } from '../../shared/models/store.js';
import { seededRandom } from '../../shared/random.js';
import {
  Int8Model, MAGIC, QuantFormatError, loadQuantized, parseQuantized, quantizeModel, saveQuantized, serializeQuantized, type QuantizedModel,
} from '../../shared/quantize/index.js';

/** Every op kind: conv, depthwise (x2), lut, avg/max/global pools, and a linear last layer with int32 output. */
const MIXED = {
  kind: 'layers',
  layers: [
    { type: 'conv2d', filters: 6, activation: 'tanh' },
    { type: 'depthwiseConv2d', depthMultiplier: 2, activation: 'relu' },
    { type: 'maxPool' },
    { type: 'avgPool', poolSize: 1 },
    { type: 'globalAvgPool' },
    { type: 'dense', units: 8, activation: 'relu' },
  ],
};

const randomSamples = (n: number, features: number, seed: number) => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n * features }, () => rng.next());
};

let q: QuantizedModel;
let bytes: Uint8Array;

beforeAll(async () => {
  await initBackend(() => {});
  q = quantizeModel(buildModel(MIXED, { inputShape: [8, 8, 1], numClasses: 5, seed: 2 }), randomSamples(50, 64, 1));
  bytes = serializeQuantized(q);
});

/** Re-encodes a file with its JSON header edited and the same blob. */
function withHeader(edit: (h: Record<string, any>) => void): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header).padEnd(Math.ceil(length / 4) * 4 + 64, ' '));
  const blob = bytes.subarray(8 + length);
  const out = new Uint8Array(8 + json.length + blob.length);
  out.set(bytes.subarray(0, 4));
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  out.set(blob, 8 + json.length);
  return out;
}

function refusal(file: Uint8Array): QuantFormatError {
  try {
    parseQuantized(file, 'test.dq8');
  } catch (e) {
    expect(e).toBeInstanceOf(QuantFormatError);
    return e as QuantFormatError;
  }
  throw new Error('the file was accepted');
}

describe('int8 model file', () => {
  it('round-trips exactly: same model, same bytes, same predictions', () => {
    const back = parseQuantized(bytes);
    expect(back).toEqual(q);
    expect(serializeQuantized(back)).toEqual(bytes);
    const x = randomSamples(20, 64, 9);
    expect(new Int8Model(back).predict(x)).toEqual(new Int8Model(q).predict(x));
    expect(q.ops.map((o) => o.kind)).toEqual(['conv', 'lut', 'depthwise', 'maxPool', 'avgPool', 'globalAvgPool', 'conv', 'conv']);
  });

  it('saves atomically and loads back from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dq8-'));
    try {
      const path = join(dir, 'student.dq8');
      expect(saveQuantized(q, path)).toBe(bytes.length);
      expect(loadQuantized(path)).toEqual(q);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is at most 0.26x the float32 weights.bin of the Fashion-MNIST student', async () => {
    const model = buildModel({ kind: 'cnn', conv: [16, 32], dense: [64] }, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'dq8-'));
    try {
      await saveModel(model, dir);
      const floatBytes = statSync(join(dir, WEIGHTS_BIN)).size;
      const path = join(dir, 'student.dq8');
      saveQuantized(quantizeModel(model, randomSamples(20, 784, 3)), path);
      expect(readFileSync(path).length / floatBytes).toBeLessThanOrEqual(0.26);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves from inference.js without loading TF.js (about 100 MB of RSS on a device)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dq8-'));
    try {
      const path = join(dir, 'student.dq8');
      saveQuantized(q, path);
      const entry = new URL('../../shared/quantize/inference.ts', import.meta.url).href;
      const code = `const m = await import(${JSON.stringify(entry)});
        const logits = new m.Int8Model(m.loadQuantized(${JSON.stringify(path)})).predict(new Float32Array(64).fill(0.5));
        console.log(JSON.stringify({ outputs: logits.length, tf: typeof globalThis._tfengine }));`;
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
      expect(JSON.parse(out)).toEqual({ outputs: 5, tf: 'undefined' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file with the wrong magic', () => {
    const bad = bytes.slice();
    bad.set(new TextEncoder().encode('PK\x03\x04'));
    const e = refusal(bad);
    expect(e.code).toBe('bad-magic');
    expect(e.message).toMatch(/test\.dq8: starts with "PK\\u0003\\u0004", not the int8 model magic "DQI8"/);
    expect(MAGIC).toBe('DQI8');
  });

  it('refuses truncated files wherever they are cut', () => {
    for (const cut of [0, 3, 7, 12, 200, bytes.length - 1000, bytes.length - 1]) {
      const e = refusal(bytes.subarray(0, cut));
      expect(e.code, `cut at ${cut}`).toBe('truncated');
      expect(e.message).toMatch(/too short|runs past the end|truncated: \d+ bytes, header and blob need \d+/);
    }
  });

  it('refuses a header that is not JSON, or from a newer version', () => {
    const broken = bytes.slice();
    broken[9] = 0x7b; // '{' inside the JSON
    expect(refusal(broken)).toMatchObject({ code: 'bad-header', message: expect.stringMatching(/header is not valid UTF-8 JSON/) });
    const v2 = refusal(withHeader((h) => (h.version = 2)));
    expect(v2.code).toBe('unsupported-version');
    expect(v2.message).toMatch(/format version 2 is not supported; this build reads version 1/);
  });

  it('refuses malformed headers, naming the field and the bad value', () => {
    const cases: [(h: Record<string, any>) => void, RegExp][] = [
      [(h) => (h.format = 'onnx'), /format: must be "distillery-int8", got "onnx"/],
      [(h) => (h.ops[0].kind = 'conv3d'), /ops\[0\]\.kind: unknown op "conv3d"; use one of conv, depthwise/],
      [(h) => (h.ops[0].weights[1] -= 1), /ops\[0\]\.weights: 54 values expected, header says 53/],
      [(h) => (h.ops[0].bias[0] = h.blobBytes), /ops\[0\]\.bias: bytes \[\d+, \d+\) run past the \d+-byte blob/],
      [(h) => (h.ops[0].bias[0] += 2), /ops\[0\]\.bias: offset \d+ is not 4-byte aligned/],
      [(h) => (h.ops[0].shift = 99), /ops\[0\]\.shift: must be an integer in \[1, 62\], got 99/],
      [(h) => (h.ops[0].output.scale = -1), /ops\[0\]\.output\.scale: must be a finite number > 0, got -1/],
      [(h) => (h.ops[2].outShape = [8, 8, 7]), /ops\[2\]\.outShape: 7 channels are not a multiple of the 6 input channels/],
      [(h) => (h.ops[3].outShape = [3, 4, 12]), /ops\[3\]\.outShape: is \[3,4,12\], but its input and parameters give \[4,4,12\]/],
      [(h) => (h.ops[6].inShape = [1, 1, 11]), /ops\[6\]\.inShape: \[1,1,11\] does not hold the 12 values/],
      [(h) => (h.ops[5].inShape = [40000, 40000, 1]), /ops\[5\]\.inShape: \[40000,40000,1\] has more than 67108864 elements/],
      [(h) => (h.ops[0].accumulatorScales = [0, 6]), /ops\[0\]\.accumulatorScales: is only allowed on the last op/],
      [(h) => (h.inputShape = [8, 8]), /inputShape: must be an array of 3 integers, got \[8,8\]/],
      [(h) => (h.blobBytes -= 4), /blobBytes: file has 4 bytes after the \d+-byte blob/],
    ];
    for (const [edit, message] of cases) {
      const e = refusal(withHeader(edit));
      expect(e.code, String(message)).toBe('bad-header');
      expect(e.message).toMatch(message);
    }
  });
});
