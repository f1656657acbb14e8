/**
 * Depthwise convolution gradients for wasm (DepthwiseConv2dNativeBackpropFilter / ...BackpropInput).
 *
 * Depthwise work is O(outputs x filter taps) with no channel mixing, so tight typed-array loops with the
 * channel as the innermost, contiguous index are as fast as a matmul formulation would be.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { alloc, view, type WasmBackendLike } from './wasm-backend.js';
import { convGeometry, type ConvAttrs } from './geometry.js';
import type { ConvGeometry } from './im2col.js';


/** Calls `visitRow` once for every (input pixel, output pixel, filter tap) triple that a depthwise conv connects. */
function forEachTap(g: ConvGeometry, inC: number, visitRow: (xBase: number, yBase: number, wBase: number) => void): void {
  const { batch, inH, inW, outH, outW, filterH, filterW, strideH, strideW, dilationH, dilationW, padTop, padLeft } = g;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const yPixel = (n * outH + oh) * outW + ow;
        for (let fh = 0; fh < filterH; fh++) {
          const ih = oh * strideH - padTop + fh * dilationH;
          if (ih < 0 || ih >= inH) continue;
          for (let fw = 0; fw < filterW; fw++) {
            const iw = ow * strideW - padLeft + fw * dilationW;
            if (iw < 0 || iw >= inW) continue;
            visitRow(((n * inH + ih) * inW + iw) * inC, yPixel, fh * filterW + fw);
          }
        }
      }
    }
  }
}

interface FilterAttrs extends ConvAttrs {
  filterShape: [number, number, number, number];
}

function depthwiseBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: WasmBackendLike; attrs: FilterAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { geometry: g } = convGeometry('DepthwiseConv2dNativeBackpropFilter', inputs.x.shape, attrs.filterShape, attrs, true);
  const inC = g.inC;
  const mult = attrs.filterShape[3];
  const outC = inC * mult;
  const out = alloc(backend, attrs.filterShape);
  const dw = view(backend, out);
  dw.fill(0);
  const x = view(backend, inputs.x);
  const dy = view(backend, inputs.dy);
  forEachTap(g, inC, (xBase, yPixel, tap) => {
    const yBase = yPixel * outC;
    const wBase = tap * outC;
    for (let c = 0; c < inC; c++) {
      const xv = x[xBase + c];
      for (let q = 0; q < mult; q++) dw[wBase + c * mult + q] += xv * dy[yBase + c * mult + q];
    }
  });
  return out;
}

interface InputAttrs extends ConvAttrs {
  inputShape: [number, number, number, number];
}

function depthwiseBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: WasmBackendLike; attrs: InputAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { geometry: g } = convGeometry('DepthwiseConv2dNativeBackpropInput', attrs.inputShape, inputs.filter.shape, attrs, true);
  const inC = g.inC;
  const mult = inputs.filter.shape[3];
  const outC = inC * mult;
  const out = alloc(backend, attrs.inputShape);
  const dx = view(backend, out);
  dx.fill(0);
  const w = view(backend, inputs.filter);
  const dy = view(backend, inputs.dy);
  forEachTap(g, inC, (xBase, yPixel, tap) => {
    const yBase = yPixel * outC;
    const wBase = tap * outC;
    for (let c = 0; c < inC; c++) {
      let sum = 0;
      for (let q = 0; q < mult; q++) sum += w[wBase + c * mult + q] * dy[yBase + c * mult + q];
      dx[xBase + c] += sum;
    }
  });
  return out;
}

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as never,
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as never,
};
