/**
 * Conditional generators G(z, y) for data-free distillation.
 *
 * Images: [z ‖ onehot(y)] → dense → BN → LeakyReLU → reshape to a quarter-resolution map → two stride-2
 * transposed convolutions (each + BN + LeakyReLU) → 3x3 conv → sigmoid, so samples live in [0, 1] like the
 * real pixels the teachers were trained on (the DCGAN/DENSE layout, made conditional as in DeepInversion's
 * class-targeted synthesis). Tabular rows: an MLP with a linear output, for standardized features.
 */
import * as tf from '@tensorflow/tfjs';
import { shapesBody } from './shape-generator.js';

export interface GeneratorOptions {
  sampleShape: number[];
  numClasses: number;
  zDim?: number;
  /** Width of the first feature map (images) or hidden layers (tabular). */
  width?: number;
  seed?: number;
  /**
   * Independent generators in one model (default 1). Each sample goes through the branch its noise picks —
   * the largest of z's first `branches` entries — so every branch draws its own share of each batch and learns
   * from that share's gradients alone: several generators at once, each free to settle on its own modes of a
   * class, behind the one G(z, y) interface that the distiller, checkpoints and sample grids use.
   */
  branches?: number;
  /**
   * Images only: draw at 1/upsample of the resolution and enlarge by bilinear interpolation (default 1, full
   * resolution; 2 drops the last transposed convolution). A coarser drawing cannot paint a class as a
   * one-pixel mark, only as a shape at least two pixels across.
   */
  upsample?: number;
  /**
   * Images only: draw each image as this many soft shapes (shape-generator.ts) instead of with transposed
   * convolutions; 0 or absent: the convolutional generator.
   */
  shapes?: number;
  /** With `shapes`: about half the samples (those whose last noise entry is positive) are drawn left-right symmetric. */
  shapesMirror?: boolean;
}

/** The upsampling factors an image generator accepts. */
export const GENERATOR_UPSAMPLES = [1, 2];

/** The settings of a distillation config that shape its generator. */
export interface GeneratorSettings {
  zDim: number;
  generatorWidth?: number;
  generators: number;
  generatorUpsample: number;
  generatorShapes: number;
  generatorShapesMirror: boolean;
}

/** The generator a distillation config describes, for samples of `sampleShape` in `numClasses` classes. */
export function generatorFor(c: GeneratorSettings, sampleShape: number[], numClasses: number, seed: number): tf.LayersModel {
  return buildGenerator({ sampleShape, numClasses, zDim: c.zDim, width: c.generatorWidth, branches: c.generators, upsample: c.generatorUpsample, shapes: c.generatorShapes, shapesMirror: c.generatorShapesMirror, seed });
}

/** The maximum number of generator branches (each costs a full generator pass per step). */
export const MAX_GENERATOR_BRANCHES = 8;

/** Branch k is initialised as a one-branch generator built with seed + k · this (a prime, so seeds do not collide). */
export const BRANCH_SEED_STRIDE = 104_729;

const leaky = () => tf.layers.leakyReLU({ alpha: 0.2 });

/**
 * Sums its branch outputs, each masked to the samples whose noise picks it: sample i takes branch
 * argmax_k z[i, k] over z's first `branches` entries. The mask is a constant of z, so each branch's weights only
 * get the gradients of the samples it drew.
 */
class PickBranch extends tf.layers.Layer {
  static readonly className = 'PickBranch';
  constructor(private readonly branches: number) {
    super({});
  }
  override computeOutputShape(shapes: tf.Shape[]): tf.Shape {
    return shapes[1];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [z, ...outs] = inputs as tf.Tensor[];
      const n = z.shape[0]!;
      const picked = tf.oneHot(tf.argMax(tf.slice(z, [0, 0], [n, this.branches]), 1), this.branches).toFloat();
      const masked = outs.map((out, k) => tf.mul(out, tf.reshape(tf.slice(picked, [0, k], [n, 1]), [n, ...out.shape.slice(1).map(() => 1)])));
      return tf.addN(masked);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), branches: this.branches };
  }
}
tf.serialization.registerClass(PickBranch);

/** The branch each row of z (row-major, `zDim` per row) picks: the rule PickBranch applies, for tools and tests. */
export function pickedBranches(z: Float32Array, zDim: number, branches: number): Int32Array {
  return Int32Array.from({ length: z.length / zDim }, (_, i) => {
    let best = 0;
    for (let k = 1; k < branches; k++) if (z[i * zDim + k] > z[i * zDim + best]) best = k;
    return best;
  });
}

export function buildGenerator(o: GeneratorOptions): tf.LayersModel {
  const zDim = o.zDim ?? 64;
  const branches = o.branches ?? 1;
  if (!Number.isInteger(branches) || branches < 1 || branches > MAX_GENERATOR_BRANCHES || branches > zDim) {
    throw new Error(`generator branches must be an integer in 1..${Math.min(MAX_GENERATOR_BRANCHES, zDim)} (at most zDim ${zDim}), got ${branches}`);
  }
  const z = tf.input({ shape: [zDim], name: 'z' });
  const y = tf.input({ shape: [o.numClasses], name: 'y' });
  const seed = o.seed ?? 1;
  // One branch is the generator as it always was (same layers, same initial weights for a seed).
  if (branches === 1) return tf.model({ inputs: [z, y], outputs: generatorBody(z, y, o, seed), name: 'generator' });
  const outs = Array.from({ length: branches }, (_, k) => generatorBody(z, y, o, seed + BRANCH_SEED_STRIDE * k));
  return tf.model({ inputs: [z, y], outputs: new PickBranch(branches).apply([z, ...outs]) as tf.SymbolicTensor, name: 'generator' });
}

/** One generator's layers from inputs z and y to a sample, initialised from `seed`. */
function generatorBody(z: tf.SymbolicTensor, y: tf.SymbolicTensor, o: GeneratorOptions, seed: number): tf.SymbolicTensor {
  let s = seed;
  const init = () => tf.initializers.glorotUniform({ seed: ++s * 7919 });
  let h = tf.layers.concatenate().apply([z, y]) as tf.SymbolicTensor;
  if (o.shapes) {
    if (o.sampleShape.length !== 3) throw new Error(`the shape generator draws images, and these samples have shape [${o.sampleShape.join(', ')}]`);
    if ((o.upsample ?? 1) !== 1) throw new Error('the shape generator draws at full resolution: use upsample 1 with shapes');
    return shapesBody(hiddenLayers(h, 4 * (o.width ?? 32), init), z, { sampleShape: o.sampleShape, shapes: o.shapes, mirror: o.shapesMirror }, init);
  }
  if (o.sampleShape.length === 3) {
    const [H, W, C] = o.sampleShape;
    if (H % 4 || W % 4) throw new Error(`image generator needs height and width divisible by 4, got ${H}x${W}`);
    const width = o.width ?? 32;
    h = tf.layers.dense({ units: (H / 4) * (W / 4) * width, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
    h = leaky().apply(tf.layers.batchNormalization().apply(h)) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [H / 4, W / 4, width] }).apply(h) as tf.SymbolicTensor;
    const upsample = o.upsample ?? 1;
    if (!GENERATOR_UPSAMPLES.includes(upsample)) throw new Error(`generator upsample must be one of ${GENERATOR_UPSAMPLES.join(', ')}, got ${upsample}`);
    for (const filters of [width, Math.max(8, width / 2)].slice(0, upsample === 2 ? 1 : 2)) {
      h = tf.layers.conv2dTranspose({ filters, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
      h = leaky().apply(tf.layers.batchNormalization().apply(h)) as tf.SymbolicTensor;
    }
    h = tf.layers.conv2d({ filters: C, kernelSize: 3, padding: 'same', kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
    // A batch norm before the sigmoid (DENSE's generator ends in one without affine terms; this one learns a
    // scale and shift per channel, starting at 1 and 0): each channel's pre-activations, over the batch and all
    // positions, are brought back to zero mean and unit variance, which keeps samples diverse and the sigmoid
    // out of saturation, where it would stop passing the devices' gradients back.
    h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'sigmoid' }).apply(h) as tf.SymbolicTensor;
    if (upsample > 1) h = tf.layers.upSampling2d({ size: [upsample, upsample], interpolation: 'bilinear' }).apply(h) as tf.SymbolicTensor;
  } else {
    h = hiddenLayers(h, o.width ?? 64, init);
    const features = o.sampleShape.reduce((a, b) => a * b, 1);
    h = tf.layers.dense({ units: features, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
    if (o.sampleShape.length !== 1) h = tf.layers.reshape({ targetShape: o.sampleShape }).apply(h) as tf.SymbolicTensor;
  }
  return h;
}

/** Two hidden layers of `width` (dense, BN, LeakyReLU): the tabular generator's body and the shape generator's. */
function hiddenLayers(h: tf.SymbolicTensor, width: number, init: () => ReturnType<typeof tf.initializers.glorotUniform>): tf.SymbolicTensor {
  for (let i = 0; i < 2; i++) {
    h = tf.layers.dense({ units: width, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
    h = leaky().apply(tf.layers.batchNormalization().apply(h)) as tf.SymbolicTensor;
  }
  return h;
}

/**
 * Draws fresh weights for a generator built by buildGenerator, in place: Glorot-uniform kernels (seeded from
 * `seed`), zero biases and BN shifts, unit BN scales and running statistics reset. What `generatorRestart`
 * uses to start a new trajectory through input space without rebuilding the model.
 */
export function reinitializeGenerator(G: tf.LayersModel, seed: number): void {
  let s = seed;
  const fresh = G.weights.map((w) => {
    const leaf = w.originalName.split('/').at(-1);
    if (leaf === 'kernel') return tf.initializers.glorotUniform({ seed: ++s * 7919 }).apply(w.shape as number[]);
    if (leaf === 'gamma' || leaf === 'moving_variance') return tf.ones(w.shape as number[]);
    if (leaf === 'bias' || leaf === 'beta' || leaf === 'moving_mean') return tf.zeros(w.shape as number[]);
    throw new Error(`reinitializeGenerator: no rule for weight ${w.originalName}`);
  });
  G.setWeights(fresh);
  tf.dispose(fresh);
}
