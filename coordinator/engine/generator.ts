/**
 * Conditional generators G(z, y) for data-free distillation.
 *
 * Images: [z ‖ onehot(y)] → dense → BN → LeakyReLU → reshape to a quarter-resolution map → two stride-2
 * transposed convolutions (each + BN + LeakyReLU) → 3x3 conv → sigmoid, so samples live in [0, 1] like the
 * real pixels the teachers were trained on (the DCGAN/DENSE layout, made conditional as in DeepInversion's
 * class-targeted synthesis). Tabular rows: an MLP with a linear output, for standardized features.
 */
import * as tf from '@tensorflow/tfjs';

export interface GeneratorOptions {
  sampleShape: number[];
  numClasses: number;
  zDim?: number;
  /** Width of the first feature map (images) or hidden layers (tabular). */
  width?: number;
  seed?: number;
}

const leaky = () => tf.layers.leakyReLU({ alpha: 0.2 });

export function buildGenerator(o: GeneratorOptions): tf.LayersModel {
  const zDim = o.zDim ?? 64;
  const seed = o.seed ?? 1;
  let s = seed;
  const init = () => tf.initializers.glorotUniform({ seed: ++s * 7919 });
  const z = tf.input({ shape: [zDim], name: 'z' });
  const y = tf.input({ shape: [o.numClasses], name: 'y' });
  let h = tf.layers.concatenate().apply([z, y]) as tf.SymbolicTensor;
  if (o.sampleShape.length === 3) {
    const [H, W, C] = o.sampleShape;
    if (H % 4 || W % 4) throw new Error(`image generator needs height and width divisible by 4, got ${H}x${W}`);
    const width = o.width ?? 32;
    h = tf.layers.dense({ units: (H / 4) * (W / 4) * width, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
    h = leaky().apply(tf.layers.batchNormalization().apply(h)) as tf.SymbolicTensor;
    h = tf.layers.reshape({ targetShape: [H / 4, W / 4, width] }).apply(h) as tf.SymbolicTensor;
    for (const filters of [width, Math.max(8, width / 2)]) {
      h = tf.layers.conv2dTranspose({ filters, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
      h = leaky().apply(tf.layers.batchNormalization().apply(h)) as tf.SymbolicTensor;
    }
    h = tf.layers.conv2d({ filters: C, kernelSize: 3, padding: 'same', kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
    // A non-affine batch norm before the sigmoid (as DENSE's generator ends in BN without affine terms):
    // every pixel keeps unit variance across the batch, which keeps samples diverse and the sigmoid out of
    // saturation, where it would stop passing the devices' gradients back.
    h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'sigmoid' }).apply(h) as tf.SymbolicTensor;
  } else {
    const width = o.width ?? 64;
    for (let i = 0; i < 2; i++) {
      h = tf.layers.dense({ units: width, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
      h = leaky().apply(tf.layers.batchNormalization().apply(h)) as tf.SymbolicTensor;
    }
    const features = o.sampleShape.reduce((a, b) => a * b, 1);
    h = tf.layers.dense({ units: features, kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
    if (o.sampleShape.length !== 1) h = tf.layers.reshape({ targetShape: o.sampleShape }).apply(h) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: [z, y], outputs: h, name: 'generator' });
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
