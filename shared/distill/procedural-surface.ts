/**
 * Two more priors for centred product photographs, beside procedural.ts's mirror and upright: surfaces carry
 * fine detail (`texture`: checks, speckle, a small print, seams), and a photograph is cropped to its object
 * (`fill`: the object is scaled up until it spans most of the frame). Procedural images are otherwise smooth
 * blobs a third of the frame across, where photographs of things show knit, prints, plaid and seams edge to edge.
 *
 * Pure: every value depends only on the random stream.
 */
import { uniformIn, type Random } from '../random.js';

/** Adds a surface's detail to the shape's fill at a point `(pu, pv)` of its own frame, in pixels. */
export type Surface = (pu: number, pv: number) => number;

/** A square wave of the given period and phase, in {−1, 1}. */
function square(t: number, period: number, phase: number): number {
  return Math.sin((2 * Math.PI * t) / period + phase) >= 0 ? 1 : -1;
}

/**
 * One of four surfaces, drawn from `rng`: checks (a two-way square wave of 2–6 pixel periods), speckle (noise
 * at every pixel), a print (a small ellipse of another intensity near the shape's centre) or seams (one to
 * three thin dark lines along the shape's axis). `a` and `b` are the shape's half-axes in pixels.
 */
export function drawSurface(rng: Random, a: number, b: number): Surface {
  const kind = rng.int(4);
  const amplitude = uniformIn(rng, 0.1, 0.3);
  if (kind === 0) {
    const [pu, pv, phu, phv] = [uniformIn(rng, 2, 6), uniformIn(rng, 2, 6), uniformIn(rng, 0, 2 * Math.PI), uniformIn(rng, 0, 2 * Math.PI)];
    return (u, v) => amplitude * square(u, pu, phu) * square(v, pv, phv);
  }
  if (kind === 1) {
    // Speckle draws from its own stream, seeded from the image's, so that its value at a pixel does not depend
    // on how many pixels of the shape were visited before it.
    const seed = rng.int(0x7fffffff);
    return (u, v) => amplitude * (2 * hash01(seed, Math.round(u * 4), Math.round(v * 4)) - 1);
  }
  if (kind === 2) {
    const [cu, cv] = [uniformIn(rng, -0.3, 0.3) * a, uniformIn(rng, -0.3, 0.3) * b];
    const [ru, rv] = [uniformIn(rng, 0.15, 0.45) * a, uniformIn(rng, 0.15, 0.45) * b];
    const shift = uniformIn(rng, -0.6, 0.6);
    return (u, v) => (((u - cu) / ru) ** 2 + ((v - cv) / rv) ** 2 <= 1 ? shift : 0);
  }
  const along = rng.next() < 0.7; // mostly vertical in the shape's frame, as plackets, zips and sleeve edges run
  const lines = Array.from({ length: 1 + rng.int(3) }, () => uniformIn(rng, -0.6, 0.6) * (along ? a : b));
  const darken = -uniformIn(rng, 0.3, 0.7);
  return (u, v) => (lines.some((at) => Math.abs((along ? u : v) - at) < 0.6) ? darken : 0);
}

/** A number in [0, 1) from a seed and two integers (a 32-bit integer hash; no state). */
function hash01(seed: number, i: number, j: number): number {
  let h = (seed ^ Math.imul(i, 0x27d4eb2d) ^ Math.imul(j, 0x165667b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 0x100000000;
}

/**
 * Scales the image's object (its pixels above 0.02) about its bounding box's centre until the box's longer side
 * spans `span` (a fraction of the frame's shorter side), centred in the frame, by bilinear resampling; an
 * object already that large is left as it is. Returns a new image.
 */
export function fillFrame(img: Float32Array, height: number, width: number, span: number): Float32Array {
  let [x0, x1, y0, y1] = [width, -1, height, -1];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (img[y * width + x] <= 0.02) continue;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  if (x1 < 0) return img;
  const scale = (span * Math.min(height, width)) / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  if (scale <= 1) return img;
  const [cx, cy] = [(x0 + x1 + 1) / 2, (y0 + y1 + 1) / 2];
  const at = (x: number, y: number) => (x >= 0 && x < width && y >= 0 && y < height ? img[y * width + x] : 0);
  const out = new Float32Array(img.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const sx = cx + (x + 0.5 - width / 2) / scale - 0.5;
    const sy = cy + (y + 0.5 - height / 2) / scale - 0.5;
    const [fx, fy] = [Math.floor(sx), Math.floor(sy)];
    const [tx, ty] = [sx - fx, sy - fy];
    out[y * width + x] = (1 - ty) * ((1 - tx) * at(fx, fy) + tx * at(fx + 1, fy)) + ty * ((1 - tx) * at(fx, fy + 1) + tx * at(fx + 1, fy + 1));
  }
  return out;
}
