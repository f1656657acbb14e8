/**
 * BatchMatMul for wasm that never takes the backend's transposed path.
 *
 * The stock kernel sends transposeA/transposeB products (every dense layer's backward pass) to a scalar
 * loop, measured here 4-20x slower than its XNNPACK path. Materialising the transposed operand costs one
 * pass over it, then the product runs on XNNPACK.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { alloc, free, view, type WasmBackendLike } from './wasm-backend.js';
import { transpose2d } from './transpose.js';

/** Copies a [..., r, c] tensor into a fresh [..., c, r] tensor. */
function transposeInnerPair(backend: WasmBackendLike, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const rows = t.shape[rank - 2];
  const cols = t.shape[rank - 1];
  const out = alloc(backend, [...t.shape.slice(0, -2), cols, rows]);
  const src = view(backend, t);
  const dst = view(backend, out);
  const size = rows * cols;
  for (let offset = 0; offset < src.length; offset += size) {
    transpose2d(src.subarray(offset, offset + size), rows, cols, dst.subarray(offset, offset + size));
  }
  return out;
}

/**
 * Wraps the backend's own BatchMatMul so that it is only ever called untransposed. The stock setupFunc is
 * kept: it binds the wasm export when the backend initialises.
 */
export function batchMatMulConfig(stockConfig: KernelConfig): KernelConfig {
  const stock = stockConfig.kernelFunc;
  const kernelFunc = (args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: WasmBackendLike; attrs: { transposeA: boolean; transposeB: boolean } }) => {
    const { inputs, backend, attrs } = args;
    if (!attrs.transposeA && !attrs.transposeB) return stock(args as never);
    const temps: TensorInfo[] = [];
    const a = attrs.transposeA ? transposeInnerPair(backend, inputs.a) : inputs.a;
    if (attrs.transposeA) temps.push(a);
    const b = attrs.transposeB ? transposeInnerPair(backend, inputs.b) : inputs.b;
    if (attrs.transposeB) temps.push(b);
    const out = stock({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } } as never);
    for (const t of temps) free(backend, t);
    return out;
  };
  return { kernelName: 'BatchMatMul', backendName: 'wasm', setupFunc: stockConfig.setupFunc, kernelFunc: kernelFunc as never };
}
