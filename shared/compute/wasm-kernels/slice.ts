/**
 * Slice for wasm with plain copy loops.
 *
 * The stock kernel copies a strided slice one innermost row at a time through `set(subarray(...))`, a
 * typed-array view per row: slicing one pixel row off a batch of single-channel images (the generator's
 * total-variation prior, the query jitter) made a view per pixel and cost ~0.1 µs per element. This one
 * finds the longest contiguous run (the innermost sliced axis with every full axis after it) and copies
 * runs with an indexed loop. Contiguous slices and strings go to the stock kernel, which handles them well.
 */
import { slice_util, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import { fullStrides, isNumeric, type NumericArray, type NumericBackend } from './wasm-backend.js';

/** Copies the slice (begin, size) of x (shape `shape`) into out, in row-major order. */
export function sliceInto(x: NumericArray, shape: number[], begin: number[], size: number[], out: NumericArray): void {
  const rank = shape.length;
  const stride = fullStrides(shape);
  // Axis k is the innermost one not taken whole: from it on, each slice row is one contiguous run.
  let k = rank - 1;
  while (k > 0 && size[k] === shape[k]) k--;
  const run = size[k] * stride[k];
  const outer = size.slice(0, k);
  const count = outer.reduce((a, b) => a * b, 1);
  const index = new Array<number>(k).fill(0);
  let base = 0;
  for (let d = 0; d <= k; d++) base += begin[d] * stride[d];
  let o = 0;
  for (let r = 0; r < count; r++) {
    for (let i = 0; i < run; i++) out[o + i] = x[base + i];
    o += run;
    // Odometer over the outer axes, moving `base` with it.
    for (let d = k - 1; d >= 0; d--) {
      base += stride[d];
      if (++index[d] < outer[d]) break;
      base -= outer[d] * stride[d];
      index[d] = 0;
    }
  }
}

export function sliceConfig(stockConfig: KernelConfig): KernelConfig {
  const stock = stockConfig.kernelFunc;
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: NumericBackend; attrs: { begin: number | number[]; size: number | number[] } }) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    if (!isNumeric(x.dtype)) return stock(args as never);
    const [begin, size] = slice_util.parseSliceParams(x as never, attrs.begin, attrs.size);
    if (x.shape.length === 0 || slice_util.isSliceContinous(x.shape, begin, size)) return stock(args as never);
    const out = backend.makeOutput(size, x.dtype);
    if (util.sizeFromShape(size) > 0) sliceInto(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
    return out;
  };
  return { ...stockConfig, kernelFunc: kernelFunc as never };
}
