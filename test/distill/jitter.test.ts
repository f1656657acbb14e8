/** Batch jitter of synthetic images: a circular shift and flip, matched against index arithmetic by hand. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { seededRandom } from '../../shared/random.js';
import { applyJitter, drawJitter, jitterEachSample, jitterEnabled } from '../../coordinator/engine/jitter.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';

beforeAll(async () => {
  await initBackend(() => {});
});

const [N, H, W, C] = [2, 3, 4, 2];
const at = (n: number, i: number, j: number, c: number) => ((n * H + i) * W + j) * C + c;
const input = Float32Array.from({ length: N * H * W * C }, (_, k) => k);

/** Reference: out[i][j] = in[(i - dy) mod H][(j - dx) mod W], then mirrored left-right if flip. */
function reference(values: Float32Array, dy: number, dx: number, flip: boolean): Float32Array {
  const out = new Float32Array(values.length);
  const mod = (a: number, n: number) => ((a % n) + n) % n;
  for (let n = 0; n < N; n++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let c = 0; c < C; c++) {
          const jj = flip ? W - 1 - j : j;
          out[at(n, i, j, c)] = values[at(n, mod(i - dy, H), mod(jj - dx, W), c)];
        }
  return out;
}

describe('jitter', () => {
  it('shifts circularly and flips like the index reference', () => {
    for (const d of [{ dy: 1, dx: -1, flip: false }, { dy: -2, dx: 3, flip: true }, { dy: 0, dx: 0, flip: true }, { dy: 4, dx: 5, flip: false }]) {
      const x = tf.tensor4d(input, [N, H, W, C]);
      const y = applyJitter(x, d);
      expect(Array.from(y.dataSync())).toEqual(Array.from(reference(input, d.dy, d.dx, d.flip)));
      tf.dispose([x, y]);
    }
  });

  it('passes the generator gradient back through the permutation exactly', () => {
    const d = { dy: 1, dx: 2, flip: true };
    const g = tf.tensor4d(Float32Array.from({ length: input.length }, (_, k) => (k * 7) % 11), [N, H, W, C]);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(applyJitter(x, d), g)))(tf.tensor4d(input, [N, H, W, C]));
    // d/dx_k Σ_m jitter(x)_m g_m = g at the position where x_k lands: jitter the index map to find it.
    const landed = reference(input, d.dy, d.dx, d.flip); // landed[m] = source index k
    const expected = new Float32Array(input.length);
    const gv = g.dataSync();
    landed.forEach((k, m) => (expected[k] = gv[m]));
    expect(Array.from(grad.dataSync())).toEqual(Array.from(expected));
  });

  it('leaves tabular rows alone and draws shifts within the bound', () => {
    const rows = tf.tensor2d([[1, 2, 3]]);
    expect(applyJitter(rows, { dy: 1, dx: 1, flip: true })).toBe(rows);
    const rng = seededRandom(3);
    const draws = Array.from({ length: 400 }, () => drawJitter({ shift: 2, flip: true }, rng));
    expect(new Set(draws.map((j) => j.dx))).toEqual(new Set([-2, -1, 0, 1, 2]));
    expect(new Set(draws.map((j) => j.dy))).toEqual(new Set([-2, -1, 0, 1, 2]));
    const flips = draws.filter((j) => j.flip).length;
    expect(flips).toBeGreaterThan(150);
    expect(flips).toBeLessThan(250);
    expect(jitterEnabled({ shift: 0, flip: false })).toBe(false);
    expect(drawJitter({ shift: 0, flip: false }, rng)).toEqual({ dy: 0, dx: 0, flip: false });
  });

  it('jitters each replayed sample with its own draw, as applyJitter does to a batch', () => {
    const draws = [{ dy: 2, dx: -1, flip: true }, { dy: -1, dx: 3, flip: false }];
    const out = jitterEachSample(input, [N, H, W, C], (i) => draws[i]);
    const size = H * W * C;
    for (let n = 0; n < N; n++) {
      const one = tf.tensor4d(input.slice(n * size, (n + 1) * size), [1, H, W, C]);
      const expected = applyJitter(one, draws[n]);
      expect(Array.from(out.slice(n * size, (n + 1) * size))).toEqual(Array.from(expected.dataSync()));
      tf.dispose([one, expected]);
    }
    // The input is left as it was (the replay buffer's copy is not touched) and rows pass through.
    expect(Array.from(input.slice(0, 4))).toEqual([0, 1, 2, 3]);
    const rows = new Float32Array([1, 2, 3]);
    expect(jitterEachSample(rows, [1, 3], () => draws[0])).toBe(rows);
  });

  it('settings are validated with the field named', () => {
    expect(parseDistillConfig({}).studentJitter).toEqual({ shift: 0, flip: false });
    expect(parseDistillConfig({ studentJitter: { flip: true } }).studentJitter).toEqual({ shift: 0, flip: true });
    expect(() => parseDistillConfig({ studentJitter: { shift: -2 } })).toThrow(/distill.studentJitter.shift: must be an integer >= 0 \(pixels\), got -2/);
    expect(() => parseDistillConfig({ studentJitter: { crop: 1 } })).toThrow(/distill.studentJitter.crop: unknown setting; valid: shift, flip/);
    expect(() => parseDistillConfig({ studentJitter: [] })).toThrow(/distill.studentJitter: must be an object/);
    expect(parseDistillConfig({}).jitter).toEqual({ shift: 0, flip: false });
    expect(parseDistillConfig({ jitter: { shift: 2 } }).jitter).toEqual({ shift: 2, flip: false });
    expect(() => parseDistillConfig({ jitter: { shift: -1 } })).toThrow(/distill.jitter.shift: must be an integer >= 0 \(pixels\), got -1/);
    expect(() => parseDistillConfig({ jitter: { shift: 1.5 } })).toThrow(/distill.jitter.shift/);
    expect(() => parseDistillConfig({ jitter: { flip: 'yes' } })).toThrow(/distill.jitter.flip: must be true or false/);
    expect(() => parseDistillConfig({ jitter: { rotate: 1 } })).toThrow(/distill.jitter.rotate: unknown setting; valid: shift, flip/);
    expect(() => parseDistillConfig({ jitter: 3 })).toThrow(/distill.jitter: must be an object/);
  });
});
