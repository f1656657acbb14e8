/**
 * Picks the TF.js compute backend once per process.
 *
 * Order: 'tensorflow' (the optional @tensorflow/tfjs-node native binding) when it loads, else 'wasm'
 * (with Distillery's conv-gradient kernels registered, see wasm-kernels/), else the pure-JS 'cpu'.
 * DISTILLERY_BACKEND=tensorflow|wasm|cpu forces a choice and fails loudly if that backend cannot start.
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './wasm-kernels/register.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let chosen: Promise<BackendName> | undefined;

async function tryTensorflow(): Promise<boolean> {
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional package at build time.
    const name = '@tensorflow/tfjs-node';
    await import(name);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

async function tryCpu(): Promise<boolean> {
  return tf.setBackend('cpu');
}

const starters: Record<BackendName, () => Promise<boolean>> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};

/** Parses DISTILLERY_BACKEND; throws a clear error for an unknown value. */
export function parseBackendOverride(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`DISTILLERY_BACKEND=${JSON.stringify(value)} is not a backend; use one of ${BACKEND_NAMES.join(', ')}`);
}

async function pick(log: (line: string) => void): Promise<BackendName> {
  const forced = parseBackendOverride(process.env.DISTILLERY_BACKEND);
  if (forced) {
    if (!(await starters[forced]())) {
      throw new Error(`DISTILLERY_BACKEND=${forced} was requested but the '${forced}' backend could not start`);
    }
    log(`distillery: compute backend '${forced}' (forced by DISTILLERY_BACKEND)`);
    return forced;
  }
  for (const name of BACKEND_NAMES) {
    if (await starters[name]()) {
      log(`distillery: compute backend '${name}'`);
      return name;
    }
  }
  throw new Error('no TF.js backend could start (tried tensorflow, wasm, cpu)');
}

/**
 * Initialises the backend on first call and returns its name; later calls return the same promise,
 * so the choice is announced once. `log` defaults to stderr so stdout stays clean for results.
 */
export function initBackend(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<BackendName> {
  chosen ??= pick(log);
  return chosen;
}

/** Switches to a specific backend (benchmarks compare backends in one process). */
export async function useBackend(name: BackendName): Promise<boolean> {
  return starters[name]();
}
