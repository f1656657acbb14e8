/**
 * Registers Distillery's training kernels for the wasm backend from one explicit list.
 * Stock tfjs-backend-wasm 4.22 lacks the conv filter gradients and the depthwise gradients, and its
 * Conv2DBackpropInput, MaxPoolGrad, Tile, strided Slice, transposed matmuls and leading-axes Sum and Mean are
 * slow; these add or replace them. Idempotent: the stock kernels a replacement falls back to are captured once
 * and wrapped once.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise-backprop.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { tileConfig } from './tile.js';
import { sliceConfig } from './slice.js';
import { meanConfig, sumConfig } from './reduce.js';

/** The stock kernels our replacements wrap, captured before the first replacement. */
const stockKernels = new Map<string, KernelConfig>();

/** tfjs-backend-wasm's own kernel `name`, as it was before Distillery replaced it (tests compare against it). */
export function stockWasmKernel(name: string): KernelConfig {
  let config = stockKernels.get(name);
  if (!config) {
    config = getKernel(name, 'wasm');
    if (!config) throw new Error(`tfjs-backend-wasm did not register ${name}; is @tensorflow/tfjs-backend-wasm installed?`);
    stockKernels.set(name, config);
  }
  return config;
}

function trainingKernels(): KernelConfig[] {
  return [
    batchMatMulConfig(stockWasmKernel('BatchMatMul')),
    tileConfig(stockWasmKernel('Tile')),
    sliceConfig(stockWasmKernel('Slice')),
    sumConfig(stockWasmKernel('Sum')),
    meanConfig(stockWasmKernel('Mean')),
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
  'Sum',
  'Mean',
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
