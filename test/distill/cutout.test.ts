/** Cutout of synthetic query images: the mask against a hand-built square, its gradient, and its settings. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { seededRandom } from '../../shared/random.js';
import { applyCutout, drawCutoutMask } from '../../coordinator/engine/cutout.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';

beforeAll(async () => {
  await initBackend(() => {});
});

/** A random source whose int(n) calls return the given values in order. */
function scripted(values: number[]) {
  let i = 0;
  return { ...seededRandom(1), int: (n: number) => {
    const v = values[i++];
    if (v === undefined || v >= n) throw new Error(`scripted: no value below ${n} left`);
    return v;
  } };
}

/** The reference mask of one sample: zero where |r - (cy - floor(s/2))| lies inside [0, s), likewise columns. */
function square(h: number, w: number, cy: number, cx: number, size: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++) {
      const inRows = r >= cy - Math.floor(size / 2) && r < cy - Math.floor(size / 2) + size;
      const inCols = c >= cx - Math.floor(size / 2) && c < cx - Math.floor(size / 2) + size;
      out.push(inRows && inCols ? 0 : 1);
    }
  return out;
}

describe('cutout', () => {
  it('zeros one square per sample at its drawn centre, clipped at the borders', () => {
    // Sample 0: centre (2, 3) inside a 6 × 5 image; sample 1: centre (0, 4), the square clipped at top and right.
    const mask = drawCutoutMask(2, 6, 5, 3, scripted([2, 3, 0, 4]));
    expect(Array.from(mask)).toEqual([...square(6, 5, 2, 3, 3), ...square(6, 5, 0, 4, 3)]);
    expect(Array.from(mask.slice(0, 30)).filter((v) => v === 0)).toHaveLength(9);
    expect(Array.from(mask.slice(30)).filter((v) => v === 0)).toHaveLength(4); // rows 0..1 × columns 3..4
    // An even side: the square spans [c - s/2, c + s/2).
    expect(Array.from(drawCutoutMask(1, 4, 4, 2, scripted([1, 1])))).toEqual(square(4, 4, 1, 1, 2));
    expect(Array.from(drawCutoutMask(3, 4, 4, 0, seededRandom(2)))).toEqual(new Array(48).fill(1));
    expect(() => drawCutoutMask(1, 4, 4, 1.5, seededRandom(2))).toThrow(/cutout: size must be an integer >= 0, got 1.5/);
  });

  it('multiplies every channel by the mask and lets the gradient through only outside the square', () => {
    const [n, h, w, c] = [2, 3, 3, 2];
    const values = Float32Array.from({ length: n * h * w * c }, (_, k) => k + 1);
    const mask = drawCutoutMask(n, h, w, 2, scripted([1, 1, 2, 0]));
    const x = tf.tensor4d(values, [n, h, w, c]);
    const expected = Array.from(values, (v, k) => v * mask[Math.floor(k / c)]);
    expect(Array.from(applyCutout(x, mask).dataSync())).toEqual(expected);
    const g = tf.tensor4d(Float32Array.from({ length: values.length }, (_, k) => (k % 5) - 2), [n, h, w, c]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyCutout(t, mask), g)))(x);
    const gv = g.dataSync();
    expect(Array.from(grad.dataSync())).toEqual(Array.from(gv, (v, k) => v * mask[Math.floor(k / c)]));
    const rows = tf.tensor2d([[1, 2, 3]]);
    expect(applyCutout(rows, mask)).toBe(rows);
    expect(() => applyCutout(x, new Float32Array(5))).toThrow(/cutout: mask of 5 values for a batch of 2 × 3 × 3/);
  });

  it('is off by default and validated with the field named', () => {
    expect(parseDistillConfig({}).cutout).toBe(0);
    expect(parseDistillConfig({ cutout: 12 }).cutout).toBe(12);
    expect(() => parseDistillConfig({ cutout: -1 })).toThrow(/distill.cutout: must be an integer >= 0 \(side of the occluded square in pixels; 0: off\), got -1/);
    expect(() => parseDistillConfig({ cutout: '8' })).toThrow(/distill.cutout: must be an integer >= 0/);
  });
});
