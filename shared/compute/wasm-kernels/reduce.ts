/**
 * Sum and Mean for wasm over leading axes, without a transpose.
 *
 * The stock kernels move the reduced axes innermost with a full Transpose before summing. Bias gradients
 * (Σ over batch, rows and columns of a [N, H, W, C] activation) and batch norm's moments reduce exactly
 * the leading axes, so that transpose copied every activation once more: 16 of a 158 ms student step.
 * Here each output element accumulates its inputs in the same order as the stock kernel (row-major over
 * the reduced axes, float32 after every addition), so results are bit-identical; only the loop order
 * over outputs changes, which makes the pass a single sequential read. An empty reduction gives 0 for both, as on
 * the cpu backend, where the stock kernels leave the output unwritten. Other axes and dtypes go to
 * the stock kernels.
 */
import { backend_util, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs';
import { view, type WasmBackendLike } from './wasm-backend.js';

interface ReduceArgs {
  inputs: { x: TensorInfo };
  backend: WasmBackendLike;
  attrs: { axis: number | number[]; keepDims: boolean };
}

/**
 * k when `axis` lists axes 0, 1, …, k-1 in that order (negative ones counted from the end) and k < rank; else 0.
 * The order matters: the stock kernel sums the reduced axes in the order given, so [1, 0] rounds differently.
 */
export function leadingAxes(axis: number | number[], shape: number[]): number {
  const axes = util.parseAxisParam(axis, shape);
  const k = axes.length;
  if (k === 0 || k >= shape.length || axes.some((a, i) => a !== i)) return 0;
  return k;
}

/** Rows of x summed per pass over a block of outputs: 512 rows of 32 floats (64 KB) stay in cache. */
const ROW_BLOCK = 512;

/**
 * out[o] = Σ_r x[r · outSize + o], each sum accumulated in r order and rounded to float32 after every
 * addition (Math.fround), as the stock kernel's `float sum += x` does. Eight outputs are carried in locals
 * at a time over a block of rows, about twice as fast here as a read-modify-write of `out` per element.
 */
export function sumLeading(x: Float32Array, outSize: number, out: Float32Array): void {
  out.fill(0);
  const rows = outSize > 0 ? x.length / outSize : 0;
  for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
    const start = r0 * outSize;
    const end = Math.min(rows, r0 + ROW_BLOCK) * outSize;
    let o = 0;
    for (; o + 8 <= outSize; o += 8) {
      let a0 = out[o], a1 = out[o + 1], a2 = out[o + 2], a3 = out[o + 3];
      let a4 = out[o + 4], a5 = out[o + 5], a6 = out[o + 6], a7 = out[o + 7];
      for (let i = start + o; i < end; i += outSize) {
        a0 = Math.fround(a0 + x[i]);
        a1 = Math.fround(a1 + x[i + 1]);
        a2 = Math.fround(a2 + x[i + 2]);
        a3 = Math.fround(a3 + x[i + 3]);
        a4 = Math.fround(a4 + x[i + 4]);
        a5 = Math.fround(a5 + x[i + 5]);
        a6 = Math.fround(a6 + x[i + 6]);
        a7 = Math.fround(a7 + x[i + 7]);
      }
      out[o] = a0; out[o + 1] = a1; out[o + 2] = a2; out[o + 3] = a3;
      out[o + 4] = a4; out[o + 5] = a5; out[o + 6] = a6; out[o + 7] = a7;
    }
    for (; o < outSize; o++) {
      let a = out[o];
      for (let i = start + o; i < end; i += outSize) a = Math.fround(a + x[i]);
      out[o] = a;
    }
  }
}

function reduceConfig(stockConfig: KernelConfig, mean: boolean): KernelConfig {
  const stock = stockConfig.kernelFunc;
  const kernelFunc = (args: ReduceArgs) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const k = x.dtype === 'float32' ? leadingAxes(attrs.axis, x.shape) : 0;
    if (k === 0) return stock(args as never);
    const outShape = x.shape.slice(k);
    const out = backend.makeOutput(outShape, 'float32');
    const result = view(backend, out);
    sumLeading(view(backend, x), util.sizeFromShape(outShape), result);
    const count = util.sizeFromShape(x.shape.slice(0, k));
    if (mean && count > 0) {
      // The stock kernel divides the float32 sum by the count: the same single rounding.
      for (let o = 0; o < result.length; o++) result[o] = result[o] / count;
    }
    if (attrs.keepDims) out.shape = backend_util.expandShapeToKeepDim(outShape, Array.from({ length: k }, (_, i) => i));
    return out;
  };
  return { ...stockConfig, kernelFunc: kernelFunc as never };
}

export const sumConfig = (stockConfig: KernelConfig): KernelConfig => reduceConfig(stockConfig, false);
export const meanConfig = (stockConfig: KernelConfig): KernelConfig => reduceConfig(stockConfig, true);
