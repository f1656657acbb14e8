/**
 * MaxPoolGrad for wasm: routes each output gradient to the first maximum of its window (row-major order,
 * the same tie rule as the cpu backend). The stock wasm kernel recomputes positions with a slower loop.
 */
import { backend_util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import { alloc, view, type WasmBackendLike } from './wasm-backend.js';

interface Attrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function maxPoolGrad(args: { inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo }; backend: WasmBackendLike; attrs: Attrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const info = backend_util.computePool2DInfo(
    inputs.input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const out = alloc(backend, inputs.input.shape);
  const dx = view(backend, out);
  dx.fill(0);
  const x = view(backend, inputs.input);
  const y = view(backend, inputs.output);
  const dy = view(backend, inputs.dy);
  // Only when every window lies inside the image: a 'same' pool of an odd size pads the last row or column,
  // and the unrolled taps would read the next row's first pixel instead.
  const twoByTwoInside = filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && padTop === 0 && padLeft === 0
    && 2 * outHeight <= inHeight && 2 * outWidth <= inWidth;
  if (twoByTwoInside) {
    routeTwoByTwo(x, y, dy, dx, batchSize, inHeight, inWidth, C, outHeight, outWidth);
    return out;
  }
  // The forward pass's output is each window's maximum, so the first tap equal to it is the first maximum:
  // one compare per tap and no per-window bookkeeping (this kernel was a tenth of a CNN training step).
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const ih0 = oh * strideHeight - padTop;
      const fh0 = Math.max(0, -ih0);
      const fh1 = Math.min(filterHeight, inHeight - ih0);
      for (let ow = 0; ow < outWidth; ow++) {
        const iw0 = ow * strideWidth - padLeft;
        const fw0 = Math.max(0, -iw0);
        const fw1 = Math.min(filterWidth, inWidth - iw0);
        const yBase = ((n * outHeight + oh) * outWidth + ow) * C;
        for (let c = 0; c < C; c++) {
          const target = y[yBase + c];
          let where = -1;
          for (let fh = fh0; fh < fh1 && where < 0; fh++) {
            const rowBase = ((n * inHeight + ih0 + fh) * inWidth + iw0) * C + c;
            for (let fw = fw0; fw < fw1; fw++) {
              if (x[rowBase + fw * C] === target) {
                where = rowBase + fw * C;
                break;
              }
            }
          }
          if (where < 0) where = firstMaximum(x, n, ih0, iw0, c, fh0, fh1, fw0, fw1, inHeight, inWidth, C);
          if (where >= 0) dx[where] += dy[yBase + c];
        }
      }
    }
  }
  return out;
}

/**
 * The 2x2, stride-2 pool of every conv net here, unrolled: the four taps in row-major order, the first
 * equal to the pooled maximum taking the gradient (the same rule as the general loop, without its loops).
 */
function routeTwoByTwo(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, batchSize: number, inHeight: number, inWidth: number, C: number, outHeight: number, outWidth: number): void {
  const right = C;
  const down = inWidth * C;
  let yi = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const xBase = ((n * inHeight + 2 * oh) * inWidth + 2 * ow) * C;
        for (let c = 0; c < C; c++, yi++) {
          const i = xBase + c;
          const target = y[yi];
          let where: number;
          if (x[i] === target) where = i;
          else if (x[i + right] === target) where = i + right;
          else if (x[i + down] === target) where = i + down;
          else if (x[i + down + right] === target) where = i + down + right;
          else where = firstMaximum(x, n, 2 * oh, 2 * ow, c, 0, 2, 0, 2, inHeight, inWidth, C);
          dx[where] += dy[yi];
        }
      }
    }
  }
}

/**
 * The cpu backend's rule, for windows whose maximum equals none of its taps (a NaN in the window): the
 * first tap, replaced by any later one that is larger.
 */
function firstMaximum(x: Float32Array, n: number, ih0: number, iw0: number, c: number, fh0: number, fh1: number, fw0: number, fw1: number, inHeight: number, inWidth: number, C: number): number {
  let best = -Infinity;
  let where = -1;
  for (let fh = fh0; fh < fh1; fh++) {
    for (let fw = fw0; fw < fw1; fw++) {
      const i = ((n * inHeight + ih0 + fh) * inWidth + iw0 + fw) * C + c;
      if (x[i] > best || where < 0) {
        best = x[i];
        where = i;
      }
    }
  }
  return where;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as never,
};
