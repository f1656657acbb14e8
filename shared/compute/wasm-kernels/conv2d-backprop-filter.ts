/**
 * Conv2DBackpropFilter for wasm: dW = im2col(x)^T · dy.
 *
 * Computed as dW^T = Σ_windows dy_w^T · im2col(x)_w so that the patch window is the backend matmul's
 * right-hand operand (its transposed-left path is a slow scalar loop) and the patch matrix streams through
 * a cache-sized window. dy_w^T and the small [outC, K] result are transposed in JS.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { alloc, asShape, free, matMul, view, type WasmBackendLike } from './wasm-backend.js';
import { convGeometry, type ConvAttrs } from './geometry.js';
import { im2col, patchSize } from './im2col.js';
import { rowWindows } from './chunking.js';
import { transpose2d } from './transpose.js';

interface Attrs extends ConvAttrs {
  filterShape: [number, number, number, number];
}

function conv2DBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: WasmBackendLike; attrs: Attrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { geometry: g } = convGeometry('Conv2DBackpropFilter', inputs.x.shape, attrs.filterShape, attrs, false);
  const K = patchSize(g);
  const outC = attrs.filterShape[3];
  const dWT = new Float32Array(outC * K);

  for (const [rowStart, rows] of rowWindows(g)) {
    // XNNPACK caches packed right-hand operands by tensor id, so each window gets a fresh tensor.
    const col = alloc(backend, [rows, K]);
    const dyT = alloc(backend, [outC, rows]);
    im2col(view(backend, inputs.x), g, view(backend, col), rowStart, rows);
    const dy = view(backend, inputs.dy).subarray(rowStart * outC, (rowStart + rows) * outC);
    transpose2d(dy, rows, outC, view(backend, dyT));
    const partial = matMul(backend, dyT, col);
    const p = view(backend, asShape(partial, [outC, K]));
    for (let i = 0; i < p.length; i++) dWT[i] += p[i];
    free(backend, partial);
    free(backend, col);
    free(backend, dyT);
  }

  const out = alloc(backend, attrs.filterShape);
  transpose2d(dWT, outC, K, view(backend, out));
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as never,
};
