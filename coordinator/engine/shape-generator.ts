/**
 * A generator that can only draw silhouettes: G(z, y) maps noise and class through a small MLP to the
 * parameters of K soft shapes, and a fixed, differentiable renderer paints them one over another on a black
 * background. Each shape is a rotated superellipse (anything from an ellipse to a rectangle) with linear
 * shading across it and an opacity, so a dark shape drawn over a light one cuts a hole or a gap.
 *
 * Why: the convolutional generator is free to paint any pixel pattern, and the small teachers reward patterns
 * no object has (glyphs on blobs, the samples.png of every run). Pictures of isolated objects are silhouettes
 * with shading first; this generator's images live in that space whatever the devices' gradients ask, so the
 * gradients can only move, stretch, turn, shade and hide shapes. It is a prior of the same kind as the
 * procedural pool (shared/distill/procedural.ts), but one the teachers' answers steer round by round.
 */
import * as tf from '@tensorflow/tfjs';

/** Raw parameters per shape: centre x, y; half-axes; angle; squareness; shade base, slope u, slope v; opacity. */
export const SHAPE_PARAMS = 10;

/** Most shapes per image (each is one more pass over every pixel, forward and backward). */
export const MAX_SHAPES = 16;

/**
 * Shape centres stay within this fraction of the frame's side of its middle: the object is centred, as in
 * pictures of isolated objects (the procedural pool's prior too), and its shapes can still reach the edges
 * through their size. With 0.35 the devices' gradients pushed most shapes against the frame's edges.
 */
const CENTRE_SPREAD = 0.2;

/** The shortest half-axis, as a fraction of the frame's side (0.06 of 28 pixels: a stroke about 3 pixels wide). */
const MIN_HALF_AXIS = 0.06;

/** Pixels over which a shape's edge goes from transparent to opaque. */
const EDGE_PIXELS = 1;

/**
 * The renderer: [n, K · SHAPE_PARAMS] raw parameters → [n, H, W, 1] images in [0, 1]. Every parameter is
 * squashed into its range first, so any real vector draws a valid picture:
 *   centre within CENTRE_SPREAD of the frame's middle; half-axes MIN_HALF_AXIS to 45% of it; angle ±90°; squareness 2 (ellipse) to 8
 *   (nearly a rectangle); shade sigmoid(base + 2 tanh(slope_u) u + 2 tanh(slope_v) v) over the shape's own
 *   coordinates u, v ∈ [−1, 1]; opacity sigmoid.
 */
export class RenderShapes extends tf.layers.Layer {
  static readonly className = 'RenderShapes';
  constructor(private readonly config: { shapes: number; height: number; width: number; mirror?: boolean }) {
    super({});
  }

  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const first = (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
    return [first[0], this.config.height, this.config.width, 1];
  }

  /** inputs: the raw parameters, and with `mirror` the noise z, whose last entry picks the mirrored samples. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [raw, z] = Array.isArray(inputs) ? inputs : [inputs];
      const { shapes: K, height: H, width: W } = this.config;
      const n = raw.shape[0]!;
      // [n, K, 1, 1] per parameter, broadcast against the pixel grid [1, 1, H, W].
      const p = tf.reshape(raw, [n, K, SHAPE_PARAMS, 1, 1]);
      const at = (i: number) => tf.squeeze(tf.slice(p, [0, 0, i, 0, 0], [n, K, 1, 1, 1]), [2]);
      const cx = tf.add(0.5, tf.mul(CENTRE_SPREAD, tf.tanh(at(0))));
      const cy = tf.add(0.5, tf.mul(CENTRE_SPREAD, tf.tanh(at(1))));
      const rx = tf.add(MIN_HALF_AXIS, tf.mul(0.45 - MIN_HALF_AXIS, tf.sigmoid(at(2))));
      const ry = tf.add(MIN_HALF_AXIS, tf.mul(0.45 - MIN_HALF_AXIS, tf.sigmoid(at(3))));
      const angle = tf.mul(Math.PI / 2, tf.tanh(at(4)));
      const power = tf.add(2, tf.mul(6, tf.sigmoid(at(5))));
      const opacity = tf.sigmoid(at(9));
      const gx = tf.reshape(tf.div(tf.add(tf.range(0, W, 1, 'float32'), 0.5), W), [1, 1, 1, W]);
      const gy = tf.reshape(tf.div(tf.add(tf.range(0, H, 1, 'float32'), 0.5), H), [1, 1, H, 1]);
      const dx = tf.sub(gx, cx);
      const dy = tf.sub(gy, cy);
      const cos = tf.cos(angle);
      const sin = tf.sin(angle);
      const u = tf.div(tf.add(tf.mul(cos, dx), tf.mul(sin, dy)), rx);
      const v = tf.div(tf.sub(tf.mul(cos, dy), tf.mul(sin, dx)), ry);
      // Superellipse distance (|u|^p + |v|^p)^(1/p): 1 on the outline. The epsilon keeps the logarithm finite at
      // 0. Written as exp(p log x): with tf.pow (the wasm Pow kernel is slow) a step took 1.7 times the convolutional
      // generator's, now 0.6 times (bench:steps).
      const powerOf = (t: tf.Tensor) => tf.exp(tf.mul(power, tf.log(tf.add(tf.abs(t), 1e-4))));
      const distance = tf.exp(tf.div(tf.log(tf.add(powerOf(u), powerOf(v))), power));
      // Signed distance to the outline along the ray from the centre, in pixels: the outline lies at r / d on that
      // ray (d is homogeneous in u, v), so it is (r / d)(1 − d). A superellipse of squareness >= 2 contains
      // the ellipse of its half-axes, so r / d is at least the shorter half-axis, which also keeps the centre
      // (r = d = 0) well defined. A steepness of 4 per pixel makes every outline about EDGE_PIXELS wide.
      const r = tf.sqrt(tf.add(tf.add(tf.square(dx), tf.square(dy)), 1e-12));
      // (tf.maximum's gradient does not reduce a broadcast input: the floor is broadcast to the grid first.)
      const floor = tf.add(tf.minimum(rx, ry), tf.zerosLike(r));
      const rho = tf.maximum(tf.div(r, tf.maximum(distance, 1e-6)), floor);
      const inside = tf.mul(tf.mul(rho, tf.sub(1, distance)), Math.max(H, W) / EDGE_PIXELS);
      const alpha = tf.mul(opacity, tf.sigmoid(tf.mul(4, inside)));
      const shade = tf.sigmoid(tf.add(at(6), tf.add(tf.mul(tf.mul(2, tf.tanh(at(7))), tf.clipByValue(u, -1, 1)), tf.mul(tf.mul(2, tf.tanh(at(8))), tf.clipByValue(v, -1, 1)))));
      // Painter's order over a black background: each shape covers what is under it by its alpha.
      const alphas = tf.unstack(alpha, 1);
      const shades = tf.unstack(shade, 1);
      // With `mirror`, a sample whose last noise entry is positive (about half of them) is left-right symmetric:
      // each shape is painted together with its twin reflected about the frame's vertical midline, as one layer
      // (coverage 1 − (1 − a)(1 − a′), colour the coverage-weighted mean where they overlap), which is its own
      // reflection. The pixel grid is symmetric about the midline, so the twin's alpha and shade are the shape's
      // own, reversed along the width. Which samples are mirrored is a constant of z, like a generator branch.
      const mirrored = this.config.mirror && z ? tf.reshape(tf.cast(tf.greater(tf.slice(z, [0, z.shape[1]! - 1], [n, 1]), 0), 'float32'), [n, 1, 1]) : undefined;
      let image = tf.zeros([n, H, W]);
      for (let k = 0; k < K; k++) {
        let a = alphas[k];
        let colour = shades[k];
        if (mirrored) {
          const twin = tf.mul(tf.reverse(alphas[k], 2), mirrored);
          colour = tf.div(tf.add(tf.mul(a, colour), tf.mul(twin, tf.reverse(shades[k], 2))), tf.add(tf.add(a, twin), 1e-6));
          a = tf.sub(1, tf.mul(tf.sub(1, a), tf.sub(1, twin)));
        }
        image = tf.add(tf.mul(image, tf.sub(1, a)), tf.mul(a, colour));
      }
      return tf.reshape(image, [n, H, W, 1]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.config };
  }
}
tf.serialization.registerClass(RenderShapes);

/**
 * The shape generator's last layers, from its hidden features (generator.ts's two dense layers over [z ‖ y]):
 * the K · SHAPE_PARAMS parameters through a batch norm (as the convolutional generator ends in one: every
 * parameter varies across the batch from the start, so the first samples are varied pictures, not one shape),
 * then the renderer, which with `mirror` also reads z.
 */
export function shapesBody(hidden: tf.SymbolicTensor, z: tf.SymbolicTensor, o: { sampleShape: number[]; shapes: number; mirror?: boolean }, init: () => ReturnType<typeof tf.initializers.glorotUniform>): tf.SymbolicTensor {
  const [H, W, C] = o.sampleShape;
  if (C !== 1) throw new Error(`the shape generator draws single-channel images, and these samples have ${C} channels`);
  if (!Number.isInteger(o.shapes) || o.shapes < 1 || o.shapes > MAX_SHAPES) throw new Error(`generator shapes must be an integer in 1..${MAX_SHAPES}, got ${o.shapes}`);
  let h = tf.layers.dense({ units: o.shapes * SHAPE_PARAMS, kernelInitializer: init() }).apply(hidden) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  const render = new RenderShapes({ shapes: o.shapes, height: H, width: W, ...(o.mirror ? { mirror: true } : {}) });
  return render.apply(o.mirror ? [h, z] : h) as tf.SymbolicTensor;
}
