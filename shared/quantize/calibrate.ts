/**
 * Runs the folded float graph with TF.js ops and records the range of every op's output over the local
 * calibration samples (post-training min/max calibration, as TFLite's converter does). Running the folded
 * graph rather than the original model gives the ranges of exactly the tensors the int8 model produces,
 * e.g. a conv's pre-activation values when its tanh becomes a separate lookup table.
 */
import * as tf from '@tensorflow/tfjs';
import { activationOp } from './activations.js';
import { QuantizeError } from './errors.js';
import { sizeOf } from './geometry.js';
import type { FloatGraph, FloatOp } from './extract.js';

export interface Range {
  min: number;
  max: number;
}

export interface Calibration {
  input: Range;
  /** One range per graph op (reshape ops repeat their input's range). */
  outputs: Range[];
}

/** Uploads the graph's weights once; `dispose` frees them. */
function uploadWeights(graph: FloatGraph): { kernels: Map<FloatOp, [tf.Tensor4D, tf.Tensor1D]>; dispose: () => void } {
  const kernels = new Map<FloatOp, [tf.Tensor4D, tf.Tensor1D]>();
  for (const op of graph.ops) {
    if (op.kind === 'conv' || op.kind === 'depthwise') kernels.set(op, [tf.tensor4d(op.kernel, op.kernelShape), tf.tensor1d(op.bias)]);
  }
  return { kernels, dispose: () => kernels.forEach((pair) => tf.dispose(pair)) };
}

function applyOp(op: FloatOp, x: tf.Tensor4D, weights: [tf.Tensor4D, tf.Tensor1D] | undefined): tf.Tensor4D {
  switch (op.kind) {
    case 'conv':
    case 'depthwise': {
      const [w, b] = weights!;
      const y = op.kind === 'conv'
        ? tf.conv2d(x, w, op.strides, op.padding, 'NHWC', op.dilation)
        : tf.depthwiseConv2d(x, w, op.strides, op.padding, 'NHWC', op.dilation);
      const biased = tf.add(y, b) as tf.Tensor4D;
      return op.relu ? tf.relu(biased) : biased;
    }
    case 'maxPool':
      return tf.maxPool(x, op.pool, op.strides, 'valid');
    case 'avgPool':
      return tf.avgPool(x, op.pool, op.strides, 'valid');
    case 'globalAvgPool':
      return tf.mean(x, [1, 2], true) as tf.Tensor4D;
    case 'activation':
      return activationOp(op.fn, x, op.alpha) as tf.Tensor4D;
    case 'reshape':
      return tf.reshape(x, [x.shape[0], ...op.shape]);
  }
}

/**
 * Runs the graph on `count` samples and calls `visit(i, output)` after op i (and `visit(-1, input)`);
 * returns the final output as [count, ...outputShape] values. Used for calibration and to check folding.
 */
export function runFloatGraph(graph: FloatGraph, x: Float32Array, visit?: (op: number, t: tf.Tensor) => void, batchSize = 128): Float32Array {
  const features = sizeOf(graph.inputShape);
  const count = x.length / features;
  const outFeatures = sizeOf(graph.outputShape);
  const out = new Float32Array(count * outFeatures);
  const { kernels, dispose } = uploadWeights(graph);
  try {
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const y = tf.tidy(() => {
        let t = tf.tensor4d(x.subarray(start * features, (start + n) * features), [n, ...graph.inputShape]);
        visit?.(-1, t);
        graph.ops.forEach((op, i) => {
          t = applyOp(op, t, kernels.get(op));
          visit?.(i, t);
        });
        return t;
      });
      out.set(y.dataSync(), start * outFeatures);
      y.dispose();
    }
  } finally {
    dispose();
  }
  return out;
}

/** Min/max of the input and of every op output over the calibration samples (always including 0). */
export function calibrate(graph: FloatGraph, samples: Float32Array): Calibration {
  const features = sizeOf(graph.inputShape);
  if (samples.length === 0 || samples.length % features !== 0) {
    throw new QuantizeError('bad-calibration', `calibration data has ${samples.length} values, not a positive multiple of the ${features} features per sample of input [${graph.inputShape}]`);
  }
  const ranges: Range[] = Array.from({ length: graph.ops.length + 1 }, () => ({ min: 0, max: 0 }));
  runFloatGraph(graph, samples, (i, t) => {
    const r = ranges[i + 1];
    r.min = Math.min(r.min, tf.min(t).dataSync()[0]);
    r.max = Math.max(r.max, tf.max(t).dataSync()[0]);
  });
  for (const r of ranges) {
    if (!Number.isFinite(r.min) || !Number.isFinite(r.max)) throw new QuantizeError('bad-calibration', `calibration produced a non-finite activation range [${r.min}, ${r.max}]; check the samples and the model`);
  }
  return { input: ranges[0], outputs: ranges.slice(1) };
}
