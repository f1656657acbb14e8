/**
 * Procedural silhouettes: images drawn from no data at all, as a generic prior for "an object on a plain
 * background" (cf. Baradad et al., NeurIPS 2021, learning from procedural noise images). Each image is the
 * union of one to three random shapes — ellipses, rotated rectangles, star-shaped polygons — filled with a
 * random intensity, a linear shading and optional stripes, sometimes with a hole cut out and softened by a
 * box blur. A style (ProceduralStyle) makes some images left-right symmetric and stands some shapes upright,
 * as centred product photographs are. The teachers label them like any other query; the point is to cover
 * input space the generator's samples leave empty, not to resemble one data set.
 *
 * Pure: an image depends only on the random stream it is drawn from.
 */
import { seededRandom, uniformIn, type Random } from '../random.js';
import type { TensorData } from './port.js';
import { drawSurface, fillFrame, type Surface } from './procedural-surface.js';

export interface ProceduralSettings extends ProceduralStyle {
  /** Images in the pool, labelled once at the start of a run (0: off). */
  pool: number;
  /** Share of each student batch drawn from the pool, in (0, 1]. */
  share: number;
  /**
   * How the pool's rows for a batch are drawn, in [0, 1]: 0 uniformly, 1 every class the ensemble's vote ranks
   * first alike (ReplayBuffer.classBalancedSampler). The ensemble calls half of the pool a bag and hardly any of
   * it a trouser; coordinator-side only.
   */
  balance: number;
}

/**
 * A batch of procedural images a device draws itself (LogitsQuery.procedural): `count` images from `seed`, at
 * the query's sample shape, in the style its probabilities set (absent: 0). Only these numbers cross the port;
 * the coordinator draws the same images.
 */
export interface ProceduralSpec extends Partial<ProceduralStyle> {
  seed: number;
  count: number;
}

/** Most procedural images one query may ask a device to draw and label (bounds its memory and time). */
export const MAX_PROCEDURAL_PER_QUERY = 4096;

/**
 * Priors for centred product photographs, drawn only when above 0 so that the plain style's images, and those
 * of a style without the later priors, stay what they were: `mirror`, the probability that an image is made
 * left-right symmetric (its left half reflected); `upright`, that each shape stands axis-aligned (within a few
 * degrees) instead of at any angle; `texture`, that each shape's surface carries fine detail (checks, speckle, a
 * print or seams; procedural-surface.ts); `fill`, that the image's object is scaled up to span most of the frame.
 * `texture` and `fill` are optional here so that styles written before them still type-check; absent is 0.
 */
export interface ProceduralStyle {
  mirror: number;
  upright: number;
  texture?: number;
  fill?: number;
}

export const PLAIN_STYLE: ProceduralStyle = { mirror: 0, upright: 0 };

/**
 * What each style probability is the probability of, for error messages. Typed over every key of the style, so
 * a new prior cannot be left out: its keys drive the spec's wire check, the config's and the queries.
 */
export const STYLE_MEANING: Record<keyof ProceduralStyle, string> = {
  mirror: 'that an image is made left-right symmetric',
  upright: 'that a shape stands axis-aligned',
  texture: 'that a shape carries fine surface detail',
  fill: 'that the object is scaled up to span the frame',
};

/** The style's probabilities, in the order the spec and the config name them. */
export const STYLE_KEYS = Object.keys(STYLE_MEANING) as (keyof ProceduralStyle)[];

/** The first style probability outside [0, 1] (absent ones pass), for the config's and the device's messages. */
export function badStyleProbability(style: Partial<ProceduralStyle>): { key: keyof ProceduralStyle; value: unknown } | undefined {
  for (const key of STYLE_KEYS) {
    const value: unknown = style[key];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 1)) return { key, value };
  }
  return undefined;
}

/** Most shapes united in one image. */
const MAX_SHAPES = 3;

interface Shape {
  /** Whether pixel (u, v), in the shape's own rotated frame scaled to its half-axes, lies inside. */
  inside: (u: number, v: number) => boolean;
  cx: number;
  cy: number;
  a: number;
  b: number;
  cos: number;
  sin: number;
}

/** A star-shaped polygon about its centre: `k` vertices at sorted angles with radii in [0.5, 1]. */
function starPolygon(rng: Random): (u: number, v: number) => boolean {
  const k = 3 + rng.int(6);
  const angles = Array.from({ length: k }, () => uniformIn(rng, 0, 2 * Math.PI)).sort((x, y) => x - y);
  const radii = angles.map(() => uniformIn(rng, 0.5, 1));
  return (u, v) => {
    const r = Math.hypot(u, v);
    if (r === 0) return true;
    let t = Math.atan2(v, u);
    if (t < 0) t += 2 * Math.PI;
    // The edge between the vertices on either side of angle t, interpolated in angle.
    let j = angles.findIndex((a) => a > t);
    if (j === -1) j = 0;
    const i = (j - 1 + k) % k;
    const span = (angles[j] - angles[i] + 2 * Math.PI) % (2 * Math.PI) || 2 * Math.PI;
    const along = ((t - angles[i] + 2 * Math.PI) % (2 * Math.PI)) / span;
    return r <= radii[i] + (radii[j] - radii[i]) * along;
  };
}

function drawShape(rng: Random, height: number, width: number, upright = 0): Shape {
  const kind = rng.int(3);
  const inside = kind === 0 ? (u: number, v: number) => u * u + v * v <= 1 : kind === 1 ? (u: number, v: number) => Math.abs(u) <= 1 && Math.abs(v) <= 1 : starPolygon(rng);
  const theta = upright > 0 && rng.next() < upright ? rng.normal() * 0.05 : uniformIn(rng, 0, Math.PI);
  return {
    inside,
    cx: width / 2 + rng.normal() * width / 10,
    cy: height / 2 + rng.normal() * height / 10,
    a: uniformIn(rng, 0.12, 0.45) * width,
    b: uniformIn(rng, 0.12, 0.45) * height,
    cos: Math.cos(theta),
    sin: Math.sin(theta),
  };
}

/** The shape's frame coordinates of pixel (x, y). */
function frame(s: Shape, x: number, y: number): [number, number] {
  const dx = x + 0.5 - s.cx;
  const dy = y + 0.5 - s.cy;
  return [(dx * s.cos + dy * s.sin) / s.a, (-dx * s.sin + dy * s.cos) / s.b];
}

/**
 * The pixels (x, y) whose frame coordinates can lie in the square |u| <= 1, |v| <= 1, which holds every shape
 * (each `inside` implies it): the rotated rectangle's bounding box, widened by a pixel on each side so that
 * rounding cannot cut off an edge pixel. Only these are visited; the square is still tested per pixel, so an
 * image is drawn exactly as when every pixel was visited, visiting about a third of them.
 */
function pixelBox(s: Shape, height: number, width: number): { x0: number; x1: number; y0: number; y1: number } {
  const ex = s.a * Math.abs(s.cos) + s.b * Math.abs(s.sin);
  const ey = s.a * Math.abs(s.sin) + s.b * Math.abs(s.cos);
  const clamp = (v: number, size: number) => Math.min(size, Math.max(0, v));
  return {
    x0: clamp(Math.floor(s.cx - ex - 0.5) - 1, width),
    x1: clamp(Math.ceil(s.cx + ex - 0.5) + 2, width),
    y0: clamp(Math.floor(s.cy - ey - 0.5) - 1, height),
    y1: clamp(Math.ceil(s.cy + ey - 0.5) + 2, height),
  };
}

/** Whether the point (u, v) of shape s's frame lies inside it: the frame's square first, the shape's own test after. */
function covers(s: Shape, u: number, v: number): boolean {
  return u >= -1 && u <= 1 && v >= -1 && v <= 1 && s.inside(u, v);
}

/** One 3×3 box blur, zero outside the frame. */
function boxBlur(img: Float32Array, height: number, width: number): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y > 0 && y < height - 1 && x > 0 && x < width - 1) {
        // Inside the border every neighbour exists: the same nine additions in the same order, unchecked.
        const up = (y - 1) * width + x;
        const mid = up + width;
        const down = mid + width;
        out[mid] = (img[up - 1] + img[up] + img[up + 1] + img[mid - 1] + img[mid] + img[mid + 1] + img[down - 1] + img[down] + img[down + 1]) / 9;
        continue;
      }
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy >= 0 && yy < height && xx >= 0 && xx < width) sum += img[yy * width + xx];
      }
      out[y * width + x] = sum / 9;
    }
  }
  return out;
}

/** Reflects the left half of the image onto the right half, in place. */
function mirrorLeftHalf(img: Float32Array, height: number, width: number): void {
  for (let y = 0; y < height; y++) for (let x = 0; x < Math.floor(width / 2); x++) img[y * width + width - 1 - x] = img[y * width + x];
}

/** One height × width single-channel image in [0, 1]. */
export function proceduralImage(rng: Random, height: number, width: number, style: ProceduralStyle = PLAIN_STYLE): Float32Array {
  let img: Float32Array = new Float32Array(height * width);
  const shapes = 1 + rng.int(MAX_SHAPES);
  const texture = style.texture ?? 0;
  for (let k = 0; k < shapes; k++) {
    const s = drawShape(rng, height, width, style.upright);
    const base = uniformIn(rng, 0.25, 1);
    const shade = uniformIn(rng, -0.3, 0.3);
    const stripes = rng.next() < 0.3 ? { amplitude: uniformIn(rng, 0.05, 0.25), frequency: uniformIn(rng, 1, 4) * Math.PI, phase: uniformIn(rng, 0, 2 * Math.PI) } : undefined;
    const surface: Surface | undefined = texture > 0 && rng.next() < texture ? drawSurface(rng, s.a, s.b) : undefined;
    const box = pixelBox(s, height, width);
    for (let y = box.y0; y < box.y1; y++) {
      for (let x = box.x0; x < box.x1; x++) {
        // frame(s, x, y), inlined: this loop is most of a pool's drawing time, and the pair would be garbage.
        const dx = x + 0.5 - s.cx;
        const dy = y + 0.5 - s.cy;
        const u = (dx * s.cos + dy * s.sin) / s.a;
        const v = (-dx * s.sin + dy * s.cos) / s.b;
        if (!covers(s, u, v)) continue;
        const stripe = stripes ? stripes.amplitude * Math.sin(stripes.frequency * v + stripes.phase) : 0;
        img[y * width + x] = base + shade * u + stripe + (surface ? surface(u * s.a, v * s.b) : 0);
      }
    }
  }
  if (rng.next() < 0.3) {
    // A hole, as in handles and gaps between sleeves and body.
    const hole = drawShape(rng, height, width);
    hole.a *= 0.4;
    hole.b *= 0.4;
    const box = pixelBox(hole, height, width);
    for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) if (covers(hole, ...frame(hole, x, y))) img[y * width + x] = 0;
  }
  if (rng.next() < 0.5) img = boxBlur(img, height, width);
  // Scaled before mirroring, so that a mirrored image stays exactly symmetric.
  const fill = style.fill ?? 0;
  if (fill > 0 && rng.next() < fill) img = fillFrame(img, height, width, uniformIn(rng, 0.8, 1));
  if (style.mirror > 0 && rng.next() < style.mirror) mirrorLeftHalf(img, height, width);
  for (let i = 0; i < img.length; i++) img[i] = Math.min(1, Math.max(0, img[i]));
  return img;
}

/** `n` procedural images of shape [height, width, 1], row after row. */
export function proceduralBatch(rng: Random, n: number, height: number, width: number, style: ProceduralStyle = PLAIN_STYLE): Float32Array {
  const out = new Float32Array(n * height * width);
  for (let i = 0; i < n; i++) out.set(proceduralImage(rng, height, width, style), i * height * width);
  return out;
}

/** What is wrong with a procedural request for samples of `sampleShape`, or undefined. */
export function proceduralSpecProblem(spec: ProceduralSpec, sampleShape: readonly number[]): string | undefined {
  if (!(Number.isInteger(spec.count) && spec.count >= 1 && spec.count <= MAX_PROCEDURAL_PER_QUERY)) return `procedural.count must be an integer in 1..${MAX_PROCEDURAL_PER_QUERY}, got ${JSON.stringify(spec.count)}`;
  if (!(Number.isInteger(spec.seed) && spec.seed >= 0 && spec.seed <= 0xffffffff)) return `procedural.seed must be an integer in 0..2^32 - 1, got ${JSON.stringify(spec.seed)}`;
  const bad = badStyleProbability(spec);
  if (bad) return `procedural.${bad.key} must be a probability in [0, 1], got ${JSON.stringify(bad.value)}`;
  if (sampleShape.length !== 3 || sampleShape[2] !== 1) return `procedural images are single-channel images [height, width, 1]; this teacher takes [${sampleShape.join(', ')}]`;
  return undefined;
}

/** The spec's images, drawn from its seed: what a device answering LogitsQuery.procedural labels. */
export function proceduralImages(spec: ProceduralSpec, sampleShape: readonly number[]): Float32Array {
  return proceduralBatch(seededRandom(spec.seed), spec.count, sampleShape[0], sampleShape[1], specStyle(spec));
}

/** The style a spec asks for: its probabilities, 0 where absent. */
function specStyle(spec: Partial<ProceduralStyle>): ProceduralStyle {
  return Object.fromEntries(STYLE_KEYS.map((k) => [k, spec[k] ?? 0])) as unknown as ProceduralStyle;
}

/** The style's probabilities above 0, as a spec carries them (a plain style's queries carry none). */
export function styleInSpec(style: ProceduralStyle): Partial<ProceduralStyle> {
  return Object.fromEntries(STYLE_KEYS.filter((k) => (style[k] ?? 0) > 0).map((k) => [k, style[k]]));
}

/** A query's inputs followed by its procedural images (rows of `sampleShape`). */
export function withProceduralInputs(inputs: TensorData, spec: ProceduralSpec, sampleShape: readonly number[]): TensorData {
  const drawn = proceduralImages(spec, sampleShape);
  const values = new Float32Array(inputs.values.length + drawn.length);
  values.set(inputs.values);
  values.set(drawn, inputs.values.length);
  return { shape: [inputs.shape[0] + spec.count, ...sampleShape], values };
}
