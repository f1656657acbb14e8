/**
 * Registers Distillery's training kernels for the wasm backend from one explicit list.
 * Stock tfjs-backend-wasm 4.22 lacks the conv filter gradients and the depthwise gradients, and its
 * Conv2DBackpropInput, MaxPoolGrad, Tile, strided Slice and transposed matmuls are slow loops; these add or
 * replace them. Idempotent: the stock BatchMatMul, Tile and Slice are captured once and wrapped once.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise-backprop.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { tileConfig } from './tile.js';
import { sliceConfig } from './slice.js';

let stockBatchMatMul: KernelConfig | undefined;
let stockTile: KernelConfig | undefined;
let stockSlice: KernelConfig | undefined;

function stock(name: string): KernelConfig {
  const config = getKernel(name, 'wasm');
  if (!config) throw new Error(`tfjs-backend-wasm did not register ${name}; is @tensorflow/tfjs-backend-wasm installed?`);
  return config;
}

function trainingKernels(): KernelConfig[] {
  stockBatchMatMul ??= stock('BatchMatMul');
  stockTile ??= stock('Tile');
  stockSlice ??= stock('Slice');
  return [
    batchMatMulConfig(stockBatchMatMul),
    tileConfig(stockTile),
    sliceConfig(stockSlice),
    conv2DBackpropFilterConfig,
    conv2DBackpropInputConfig,
    depthwiseBackpropFilterConfig,
    depthwiseBackpropInputConfig,
    maxPoolGradConfig,
  ];
}

/** Names of the kernels Distillery provides for wasm (for docs, tests and diagnostics). */
export const WASM_TRAINING_KERNEL_NAMES = [
  'BatchMatMul',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'MaxPoolGrad',
  'Tile',
  'Slice',
] as const;

let registered = false;

export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const config of trainingKernels()) {
    if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
  registered = true;
}
