/** Local-training augmentation: per-sample zero-padded shifts and flips against index arithmetic, noise statistics, and config errors. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { seededRandom } from '../../shared/random.js';
import { augmentBatch, drawSamples, parseTrainingAugmentation, shiftAndFlip, type SampleDraw } from '../../shared/train/augment.js';
import { fit } from '../../shared/train/fit.js';
import { buildModel } from '../../shared/models/build.js';
import type { Dataset } from '../../shared/data/dataset.js';

beforeAll(async () => {
  await initBackend(() => {});
});

const [N, H, W, C] = [3, 4, 5, 2];
const at = (n: number, i: number, j: number, c: number) => ((n * H + i) * W + j) * C + c;
const input = Float32Array.from({ length: N * H * W * C }, (_, k) => k + 1);

/** Reference: out[i][j] = in[i - dy][j' - dx] (zero outside the image), j' = W - 1 - j if flipped. */
function reference(draws: SampleDraw[]): Float32Array {
  const out = new Float32Array(input.length);
  draws.forEach((d, n) => {
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let c = 0; c < C; c++) {
          const si = i - d.dy;
          const sj = (d.flip ? W - 1 - j : j) - d.dx;
          out[at(n, i, j, c)] = si >= 0 && si < H && sj >= 0 && sj < W ? input[at(n, si, sj, c)] : 0;
        }
  });
  return out;
}

describe('training augmentation', () => {
  it('shifts each sample by its own draw with zero padding, then mirrors it', () => {
    const draws: SampleDraw[] = [
      { dy: 1, dx: -2, flip: false },
      { dy: 0, dx: 0, flip: true },
      { dy: -1, dx: 2, flip: true },
    ];
    const x = tf.tensor4d(input, [N, H, W, C]);
    const out = shiftAndFlip(x, draws);
    expect(Array.from(out.dataSync())).toEqual(Array.from(reference(draws)));
    expect(() => shiftAndFlip(x, draws.slice(0, 2))).toThrow(/2 draws for a batch of 3/);
    tf.dispose([x, out]);
  });

  it('draws shifts within the bound and both flips, the same for the same seed', () => {
    const a = drawSamples(400, { shift: 2, flip: true }, seededRandom(5));
    expect(a).toEqual(drawSamples(400, { shift: 2, flip: true }, seededRandom(5)));
    const dys = new Set(a.map((d) => d.dy));
    expect([...dys].sort()).toEqual([-1, -2, 0, 1, 2].sort());
    expect(a.every((d) => Math.abs(d.dx) <= 2)).toBe(true);
    const flips = a.filter((d) => d.flip).length;
    expect(flips).toBeGreaterThan(150);
    expect(flips).toBeLessThan(250);
    expect(drawSamples(10, { noise: 0.1 }, seededRandom(1)).every((d) => d.dy === 0 && d.dx === 0 && !d.flip)).toBe(true);
  });

  it('adds Gaussian noise of the given deviation to any input, reproducibly', () => {
    const x = tf.zeros([200, 50]);
    const noisy = augmentBatch(x, { noise: 0.2 }, seededRandom(3));
    const v = Array.from(noisy.dataSync() as Float32Array);
    const mean = v.reduce((s, a) => s + a, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, a) => s + (a - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(sd).toBeGreaterThan(0.19);
    expect(sd).toBeLessThan(0.21);
    const again = augmentBatch(x, { noise: 0.2 }, seededRandom(3));
    expect(Array.from(again.dataSync())).toEqual(v);
    // Tabular rows are not shifted: only the noise applies.
    const rows = augmentBatch(tf.ones([4, 3]), { shift: 2, flip: true }, seededRandom(1));
    expect(Array.from(rows.dataSync())).toEqual(new Array(12).fill(1));
    tf.dispose([x, noisy, again, rows]);
  });

  it('is applied by fit, reproducibly for a seed', async () => {
    const n = 64;
    const data: Dataset = {
      name: 'toy',
      x: Float32Array.from({ length: n * 8 * 8 }, (_, k) => ((k * 7919) % 97) / 97),
      y: Int32Array.from({ length: n }, (_, i) => i % 2),
      sampleShape: [8, 8, 1],
      numClasses: 2,
    } as unknown as Dataset;
    const train = async (augment?: { shift: number; flip: boolean; noise: number }) => {
      const m = buildModel({ kind: 'mlp', hidden: [8] }, { inputShape: [8, 8, 1], numClasses: 2, seed: 1 });
      await fit(m, data, { epochs: 1, batchSize: 16, seed: 2, ...(augment ? { augment } : {}) });
      const w = Array.from(m.getWeights()[0].dataSync());
      m.dispose();
      return w;
    };
    const aug = { shift: 1, flip: true, noise: 0.1 };
    const [plain, a1, a2] = [await train(), await train(aug), await train(aug)];
    expect(a1).toEqual(a2);
    expect(a1).not.toEqual(plain);
  });

  it('rejects bad settings, naming the field', () => {
    expect(parseTrainingAugmentation(undefined, 'p')).toBeUndefined();
    expect(parseTrainingAugmentation({ shift: 0, flip: false, noise: 0 }, 'p')).toBeUndefined();
    expect(parseTrainingAugmentation({ shift: 2, noise: 0.1 }, 'p')).toEqual({ shift: 2, noise: 0.1 });
    expect(() => parseTrainingAugmentation({ shift: 1.5 }, 'p')).toThrow(/p.shift: must be an integer in 0..8, got 1.5/);
    expect(() => parseTrainingAugmentation({ noise: -0.1 }, 'p')).toThrow(/p.noise: must be a number in 0..1, got -0.1/);
    expect(() => parseTrainingAugmentation({ flip: 'yes' }, 'p')).toThrow(/p.flip: must be true or false/);
    expect(() => parseTrainingAugmentation({ rotate: 10 }, 'p')).toThrow(/p.rotate: unknown field; allowed: shift, flip, noise, adversarial/);
    expect(() => parseTrainingAugmentation([1], 'p')).toThrow(/p: must be an object/);
  });
});
