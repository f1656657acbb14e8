/**
 * The narrow slice of the wasm backend that Distillery's kernels touch: heap views of tensors,
 * fresh outputs, disposal, and the backend's own XNNPACK matrix product.
 *
 * Heap views are only valid until the next allocation (the wasm memory may grow and detach them),
 * so callers take a view right before they read or write.
 */
import { getKernel, util, type TensorInfo, type KernelFunc, type NamedAttrMap } from '@tensorflow/tfjs';

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function view(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

export function alloc(backend: WasmBackendLike, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

export function free(backend: WasmBackendLike, t: TensorInfo): void {
  backend.disposeData(t.dataId, true);
}

/** One of the wasm backend's own kernels (resolved when called, after the backend has registered them). */
export function backendKernel(name: string): KernelFunc {
  const kernel = getKernel(name, 'wasm')?.kernelFunc;
  if (!kernel) throw new Error(`wasm ${name} kernel is not registered`);
  return kernel;
}

let matMulKernel: KernelFunc | undefined;

/**
 * C = A x B through the wasm backend's BatchMatMul (XNNPACK). XNNPACK caches B packed by tensor id,
 * so B must be a tensor whose contents never change after its first product.
 */
export function matMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  matMulKernel ??= getKernel('BatchMatMul', 'wasm')?.kernelFunc;
  if (!matMulKernel) throw new Error('wasm BatchMatMul kernel is not registered');
  const attrs: NamedAttrMap = { transposeA: false, transposeB: false };
  return matMulKernel({ inputs: { a, b }, backend: backend as never, attrs }) as TensorInfo;
}

/** Reshapes by aliasing: a wasm tensor's bytes are its row-major layout, so only the shape changes. */
export function asShape(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** The dtypes Tile and Slice copy themselves (their heap views are typed arrays); strings go to the stock kernels. */
export type NumericArray = Float32Array | Int32Array | Uint8Array;

export function isNumeric(dtype: string): dtype is 'float32' | 'int32' | 'bool' {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

/** The backend as the copying kernels see it: outputs of any numeric dtype and their heap views. */
export interface NumericBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): NumericArray;
}

/** Row-major strides of `shape`, the innermost (1) included. */
export function fullStrides(shape: number[]): number[] {
  return shape.length ? [...util.computeStrides(shape), 1] : [];
}
