/** Random zoom of synthetic query images: against a per-pixel bilinear reference, its gradient, its draws and settings. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { seededRandom } from '../../shared/random.js';
import { applyZoom, drawZoomScales, zoomMatrix } from '../../coordinator/engine/zoom.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';

beforeAll(async () => {
  await initBackend(() => {});
});

/**
 * Reference: output pixel (r, q) of channel k reads the input at (c_h + (r − c_h) / s, c_w + (q − c_w) / s),
 * bilinearly from its four neighbours, each neighbour outside the image counting as zero.
 */
function zoomReference(values: Float32Array, [n, h, w, c]: number[], scales: Float32Array): number[] {
  const out: number[] = [];
  const at = (i: number, y: number, x: number, k: number) => (y < 0 || y >= h || x < 0 || x >= w ? 0 : values[((i * h + y) * w + x) * c + k]);
  for (let i = 0; i < n; i++)
    for (let r = 0; r < h; r++)
      for (let q = 0; q < w; q++)
        for (let k = 0; k < c; k++) {
          const y = (h - 1) / 2 + (r - (h - 1) / 2) / scales[i];
          const x = (w - 1) / 2 + (q - (w - 1) / 2) / scales[i];
          const y0 = Math.floor(y);
          const x0 = Math.floor(x);
          const fy = y - y0;
          const fx = x - x0;
          out.push(
            (1 - fy) * (1 - fx) * at(i, y0, x0, k) + (1 - fy) * fx * at(i, y0, x0 + 1, k) + fy * (1 - fx) * at(i, y0 + 1, x0, k) + fy * fx * at(i, y0 + 1, x0 + 1, k),
          );
        }
  return out;
}

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5) => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThan(tol);
};

describe('zoom', () => {
  it('a scale of 1 is the identity; 2 doubles the centre row about the centre', () => {
    const id = zoomMatrix(4, 1);
    expect(Array.from(id)).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    // size 5, centre 2: output r reads 2 + (r - 2) / 2 = 1, 1.5, 2, 2.5, 3.
    expect(Array.from(zoomMatrix(5, 2))).toEqual([
      0, 1, 0, 0, 0,
      0, 0.5, 0.5, 0, 0,
      0, 0, 1, 0, 0,
      0, 0, 0.5, 0.5, 0,
      0, 0, 0, 1, 0,
    ]);
    // Shrinking by 2: the border rows read outside the image (-2, 6) and get nothing.
    expect(Array.from(zoomMatrix(5, 0.5).slice(0, 5))).toEqual([0, 0, 0, 0, 0]);
    expect(() => zoomMatrix(5, 0)).toThrow(/zoom: scale must be a finite number > 0, got 0/);
  });

  it('matches the per-pixel bilinear reference, per sample and channel, and passes rows through', () => {
    const shape = [3, 6, 5, 2];
    const rng = seededRandom(7);
    const values = Float32Array.from({ length: 3 * 6 * 5 * 2 }, () => rng.next());
    const scales = Float32Array.from([0.7, 1, 1.45]);
    const zoomed = applyZoom(tf.tensor4d(values, shape as [number, number, number, number]), scales);
    expect(zoomed.shape).toEqual(shape);
    close(zoomed.dataSync(), zoomReference(values, shape, scales));
    const one = [2, 7, 7, 1];
    const single = Float32Array.from({ length: 98 }, () => rng.next());
    close(applyZoom(tf.tensor4d(single, one as [number, number, number, number]), Float32Array.from([1.3, 0.8])).dataSync(), zoomReference(single, one, Float32Array.from([1.3, 0.8])));
    const rows = tf.tensor2d([[1, 2, 3]]);
    expect(applyZoom(rows, scales)).toBe(rows);
    expect(() => applyZoom(tf.zeros([2, 4, 4, 1]), scales)).toThrow(/zoom: 3 scales for a batch of 2/);
  });

  it('passes the generator gradient back exactly: the transpose of the zoom', () => {
    const shape: [number, number, number, number] = [2, 5, 4, 1];
    const rng = seededRandom(3);
    const x = tf.tensor4d(Float32Array.from({ length: 40 }, () => rng.next()), shape);
    const gValues = Float32Array.from({ length: 40 }, () => rng.normal());
    const g = tf.tensor4d(gValues, shape);
    const scales = Float32Array.from([1.2, 0.75]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyZoom(t, scales), g)))(x).dataSync();
    // d/dx_j of Σ_o g_o zoom(x)_o is Σ_o g_o zoom(e_j)_o: zoom each unit image and dot it with g.
    const expected = Array.from({ length: 40 }, (_, j) => {
      const unit = new Float32Array(40);
      unit[j] = 1;
      const z = zoomReference(unit, shape, scales);
      return z.reduce((a, v, o) => a + v * gValues[o], 0);
    });
    close(grad, expected, 1e-4);
  });

  it('draws log-uniform scales within [1 / (1 + zoom), 1 + zoom], and none with zoom 0', () => {
    const scales = drawZoomScales(4000, 0.25, seededRandom(5));
    expect(Math.min(...scales)).toBeGreaterThanOrEqual(1 / 1.25 - 1e-6);
    expect(Math.max(...scales)).toBeLessThanOrEqual(1.25 + 1e-6);
    // Log-uniform: as many samples shrink as grow, and a quarter fall in each quarter of the log range.
    const logs = Array.from(scales, (s) => Math.log(s) / Math.log(1.25));
    expect(Math.abs(logs.filter((v) => v < 0).length / 4000 - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(logs.filter((v) => v > 0.5).length / 4000 - 0.25)).toBeLessThan(0.04);
    expect(Array.from(drawZoomScales(3, 0, seededRandom(5)))).toEqual([1, 1, 1]);
    expect(() => drawZoomScales(3, 1.5, seededRandom(5))).toThrow(/zoom: must be a number in 0..1/);
  });

  it('is off by default and validated with the field named', () => {
    expect(parseDistillConfig({}).zoom).toBe(0);
    expect(parseDistillConfig({ zoom: 0.25 }).zoom).toBe(0.25);
    expect(() => parseDistillConfig({ zoom: -0.1 })).toThrow(/distill.zoom: must be a number in 0..1 \(largest relative change of scale; 0: off\), got -0.1/);
    expect(() => parseDistillConfig({ zoom: '0.2' })).toThrow(/distill.zoom: must be a number in 0..1/);
  });
});
