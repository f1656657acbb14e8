/**
 * Tile for wasm by block copies.
 *
 * The stock kernel computes every output element's source index with a division per axis; batch norm's
 * gradient tiles a [1, 1, 1, C] vector to the whole activation shape several times per layer, and that
 * took 40% of a batch-norm CNN's training step here. This one copies x's innermost rows into place and
 * then repeats each finished block along its axis by doubling memmoves (copyWithin), so the work is a
 * few bulk copies of the output. Non-numeric tensors go to the stock kernel.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { fullStrides, isNumeric, type NumericArray, type NumericBackend } from './wasm-backend.js';

/** Repeats out[offset, offset + block) `times` times in place, doubling the copied span each pass. */
function repeatBlock(out: NumericArray, offset: number, block: number, times: number): void {
  const total = block * times;
  for (let filled = block; filled < total; ) {
    const n = Math.min(filled, total - filled);
    out.copyWithin(offset + filled, offset, offset + n);
    filled += n;
  }
}

/** Writes the tile of x (shape `xShape`, repeated `reps` times along each axis) into `out`, row-major. */
export function tileInto(x: NumericArray, xShape: number[], reps: number[], out: NumericArray): void {
  const rank = xShape.length;
  if (rank === 0) {
    out[0] = x[0];
    return;
  }
  const xStrides = fullStrides(xShape);
  const outStrides = fullStrides(xShape.map((s, d) => s * reps[d]));
  const fill = (dim: number, xOffset: number, outOffset: number): void => {
    const size = xShape[dim];
    if (dim === rank - 1) {
      for (let i = 0; i < size; i++) out[outOffset + i] = x[xOffset + i];
    } else {
      for (let i = 0; i < size; i++) fill(dim + 1, xOffset + i * xStrides[dim], outOffset + i * outStrides[dim]);
    }
    // The block x spans along this axis is now in place; repeat it along the axis.
    repeatBlock(out, outOffset, size * outStrides[dim], reps[dim]);
  };
  // An empty x or a zero repetition leaves nothing to write.
  if (x.length > 0 && out.length > 0) fill(0, 0, 0);
}

export function tileConfig(stockConfig: KernelConfig): KernelConfig {
  const stock = stockConfig.kernelFunc;
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: NumericBackend; attrs: { reps: number[] } }) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    if (!isNumeric(x.dtype)) return stock(args as never);
    const out = backend.makeOutput(x.shape.map((s, d) => s * attrs.reps[d]), x.dtype);
    tileInto(backend.typedArrayFromHeap(x), x.shape, attrs.reps, backend.typedArrayFromHeap(out));
    return out;
  };
  return { ...stockConfig, kernelFunc: kernelFunc as never };
}
