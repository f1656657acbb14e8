/** The shape generator (distill.generatorShapes): images drawn as soft shapes, painted one over another. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildGenerator, generatorFor, reinitializeGenerator } from '../../coordinator/engine/generator.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { RenderShapes, SHAPE_PARAMS } from '../../coordinator/engine/shape-generator.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Raw parameters of one shape (see RenderShapes for the ranges each is squashed into). */
function shape(p: Partial<Record<'cx' | 'cy' | 'rx' | 'ry' | 'angle' | 'power' | 'shade' | 'slopeU' | 'slopeV' | 'opacity', number>>): number[] {
  return [p.cx ?? 0, p.cy ?? 0, p.rx ?? 0, p.ry ?? 0, p.angle ?? 0, p.power ?? 0, p.shade ?? 0, p.slopeU ?? 0, p.slopeV ?? 0, p.opacity ?? 10];
}

function render(shapes: number[][], size = 28): number[][] {
  const layer = new RenderShapes({ shapes: shapes.length, height: size, width: size });
  const out = layer.apply(tf.tensor2d([shapes.flat()])) as tf.Tensor;
  expect(out.shape).toEqual([1, size, size, 1]);
  const v = out.dataSync();
  return Array.from({ length: size }, (_, r) => Array.from({ length: size }, (_, c) => v[r * size + c]));
}

describe('shape generator', () => {
  it('renders a centred shape of the computed size and shade on black, a sharp edge between', () => {
    // Raw 0 everywhere: centre 0.5, half-axes 0.06 + 0.39 / 2 = 0.255 of the frame, squareness 2 + 6 / 2 = 5.
    // Shade raw 1 → sigmoid(1) = 0.731 everywhere (slopes 0); opacity raw 10 → sigmoid(10).
    const img = render([shape({ shade: 1 })]);
    const inside = sigmoid(1) * sigmoid(10);
    // Pixel centres at (c + 0.5) / 28: column 14 is 0.018 from the centre, column 19 is 0.196 (inside the 0.255
    // half-axis), column 21 is 0.268 (just outside), column 24 is 0.375 (well outside).
    expect(img[14][14]).toBeCloseTo(inside, 3);
    expect(img[14][19]).toBeCloseTo(inside, 2);
    expect(img[14][21]).toBeLessThan(0.2 * inside);
    expect(img[14][24]).toBeLessThan(1e-4);
    expect(img[0][0]).toBeLessThan(1e-6);
    // Symmetric about the centre (pixel centres 13 and 14 sit 0.018 either side of it).
    expect(img[14][10]).toBeCloseTo(img[14][17], 5);
    expect(img[10][14]).toBeCloseTo(img[17][14], 5);
  });

  it('stretches, turns and shades each shape by its own parameters', () => {
    // rx raw 3 → 0.06 + 0.39 · sigmoid(3) = 0.431 wide, ry raw −3 → 0.078 tall: a horizontal bar.
    const bar = render([shape({ rx: 3, ry: -3, shade: 2 })]);
    expect(bar[14][3]).toBeGreaterThan(0.8);
    expect(bar[5][14]).toBeLessThan(1e-3);
    // Turned by 90° (angle raw large → tanh → 1 → π/2): the same bar stands upright.
    const upright = render([shape({ rx: 3, ry: -3, shade: 2, angle: 20 })]);
    expect(upright[3][14]).toBeGreaterThan(0.8);
    expect(upright[14][3]).toBeLessThan(1e-3);
    // A shading slope along u: the bar's left end darker than its right.
    const shaded = render([shape({ rx: 3, ry: -3, slopeU: 3 })]);
    expect(shaded[14][24]).toBeGreaterThan(shaded[14][4] + 0.5);
  });

  it('paints later shapes over earlier ones: an opaque black shape cuts a hole, a transparent one nothing', () => {
    const light = shape({ rx: 3, ry: 3, shade: 4 });
    const hole = shape({ rx: -1, ry: -1, shade: -20 });
    const img = render([light, hole]);
    expect(img[14][14]).toBeLessThan(0.01);
    expect(img[14][4]).toBeGreaterThan(0.95);
    const transparent = [...hole];
    transparent[9] = -20;
    const hidden = render([light, transparent]);
    expect(hidden[14][14]).toBeGreaterThan(0.95);
  });

  it('with mirror, paints each shape together with its reflection in the samples whose last noise entry is positive', () => {
    const layer = new RenderShapes({ shapes: 1, height: 28, width: 28, mirror: true });
    // One tilted bar left of the middle (cx raw −2 → 0.5 − 0.2 tanh 2 = 0.307; half-length 0.06 + 0.39 sigmoid(−1)
    // = 0.165, so it stays clear of the midline), shaded along its length.
    const bar = shape({ cx: -2, rx: -1, ry: -2, angle: 0.5, slopeU: 1, shade: 1 });
    const out = layer.apply([tf.tensor2d([bar, bar]), tf.tensor2d([[0.3, 1], [0.3, -1]])]) as tf.Tensor;
    const [mirrored, plain] = tf.unstack(tf.squeeze(out, [3])).map((t) => t.arraySync() as number[][]);
    // The twin is the bar reflected: the image equals its own left-right reflection.
    for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) expect(mirrored[r][c]).toBeCloseTo(mirrored[r][27 - c], 5);
    expect(mirrored.flat().reduce((a, b) => a + b)).toBeGreaterThan(1.9 * plain.flat().reduce((a, b) => a + b));
    // Without the twin the bar stays on its side.
    expect(plain.flat().some((v, i) => Math.abs(v - plain[Math.floor(i / 28)][27 - (i % 28)]) > 0.5)).toBe(true);
    for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) expect(mirrored[r][c]).toBeGreaterThanOrEqual(plain[r][c] - 1e-6);
  });

  it('passes the gradient to every parameter of every shape', () => {
    const K = 3;
    const layer = new RenderShapes({ shapes: K, height: 12, width: 12 });
    const raw = tf.randomNormal([2, K * SHAPE_PARAMS], 0, 1, 'float32', 4);
    const target = tf.randomUniform([2, 12, 12, 1], 0, 1, 'float32', 5);
    const grad = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(layer.apply(p) as tf.Tensor, target)))(raw);
    const g = grad.abs().sum(0).dataSync();
    expect(Array.from(g).every((v) => Number.isFinite(v))).toBe(true);
    for (let i = 0; i < K * SHAPE_PARAMS; i++) expect(g[i]).toBeGreaterThan(0);
  });

  it('is built from the config: 0 keeps the convolutional generator, k draws k shapes; bad values name the setting', () => {
    const c = parseDistillConfig({ zDim: 16 });
    expect(c.generatorShapes).toBe(0);
    expect(generatorFor(c, [8, 8, 1], 10, 3).layers.some((l) => l.getClassName() === 'RenderShapes')).toBe(false);
    const G = generatorFor(parseDistillConfig({ zDim: 16, generatorShapes: 4 }), [8, 8, 1], 10, 3);
    expect(G.layers.at(-1)!.getClassName()).toBe('RenderShapes');
    const z = tf.randomNormal([6, 16], 0, 1, 'float32', 9);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32'), 10).toFloat();
    const out = (G.apply([z, y], { training: true }) as tf.Tensor).dataSync();
    expect(out).toHaveLength(6 * 64);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...out)).toBeLessThanOrEqual(1);
    // Different noise, different pictures.
    expect(out.slice(0, 64).some((v, i) => Math.abs(v - out[64 + i]) > 0.05)).toBe(true);
    // Restarts reinitialise it like the convolutional one (dense and BN weights only).
    const before = G.getWeights().map((w) => w.dataSync().slice());
    reinitializeGenerator(G, 77);
    expect(G.getWeights().some((w, i) => w.dataSync().some((v, j) => v !== before[i][j]))).toBe(true);
    for (const bad of [-1, 17, 1.5, '6']) expect(() => parseDistillConfig({ generatorShapes: bad })).toThrow(/distill\.generatorShapes: must be an integer in 0\.\.16/);
    expect(parseDistillConfig({ generatorShapes: 4, generatorShapesMirror: true }).generatorShapesMirror).toBe(true);
    expect(() => parseDistillConfig({ generatorShapesMirror: true })).toThrow(/distill\.generatorShapesMirror: .*set generatorShapes too/);
    expect(() => parseDistillConfig({ generatorShapes: 4, generatorShapesMirror: 1 })).toThrow(/distill\.generatorShapesMirror: must be true or false/);
    const mirroredG = generatorFor(parseDistillConfig({ zDim: 16, generatorShapes: 4, generatorShapesMirror: true }), [8, 8, 1], 10, 3);
    const zMirror = tf.concat([tf.randomNormal([6, 15], 0, 1, 'float32', 9), tf.ones([6, 1])], 1);
    const drawn = tf.squeeze(mirroredG.apply([zMirror, y], { training: true }) as tf.Tensor, [3]);
    expect(tf.max(tf.abs(tf.sub(drawn, tf.reverse(drawn, 2)))).dataSync()[0]).toBeLessThan(1e-5);
    expect(() => parseDistillConfig({ generatorShapes: 4, generatorUpsample: 2 })).toThrow(/distill\.generatorShapes: .*generatorUpsample to 1/);
    expect(() => buildGenerator({ sampleShape: [30], numClasses: 2, shapes: 4 })).toThrow(/draws images, and these samples have shape \[30\]/);
    expect(() => buildGenerator({ sampleShape: [8, 8, 3], numClasses: 2, shapes: 4 })).toThrow(/single-channel images, and these samples have 3 channels/);
  });
});
