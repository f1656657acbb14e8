/**
 * Picks the TF.js compute backend once per process.
 *
 * Order: 'tensorflow' (the optional @tensorflow/tfjs-node native binding) when it loads, else 'wasm'
 * (with Distillery's conv-gradient kernels registered, see wasm-kernels/), else the pure-JS 'cpu'.
 * DISTILLERY_BACKEND=tensorflow|wasm|cpu forces a choice and fails loudly if that backend cannot start.
 *
 * The wasm backend runs XNNPACK on one thread unless the caller asks for `threads: 'auto'` (the
 * distillation engine does: its student steps run while the device threads wait): then it uses every
 * core, or DISTILLERY_WASM_THREADS of them (see wasm-threads.ts). Device and baseline threads stay at
 * one, as they already run side by side.
 */
import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { registerWasmTrainingKernels } from './wasm-kernels/register.js';
import { MAX_WASM_THREADS, prepareWasmThreads, releaseWasmThreads, wasmThreadCount, wasmThreadsFromEnv } from './wasm-threads.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let chosen: Promise<BackendName> | undefined;

export interface BackendOptions {
  /** XNNPACK threads for the wasm backend: 'auto' = DISTILLERY_WASM_THREADS or every core (at most 8); default 1. */
  threads?: 'auto' | number;
}

type Log = (line: string) => void;

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

/**
 * Starts the threaded build; on any failure says why on stderr (whatever the caller's log, which may be
 * silent: the fallback is worth knowing) and leaves the single-threaded build to start.
 */
async function tryThreadedWasm(threads: number): Promise<boolean> {
  const warn = (line: string) => process.stderr.write(line + '\n');
  try {
    await prepareWasmThreads(threads);
  } catch (e) {
    warn(`distillery: wasm threads unavailable (${(e as Error).message}); running single-threaded`);
    return false;
  }
  try {
    if (await tf.setBackend('wasm')) return true;
  } finally {
    releaseWasmThreads();
  }
  warn('distillery: the threaded wasm backend did not start; running single-threaded');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  return false;
}

async function tryWasm(threads: number): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    if (threads > 1 && (await tryThreadedWasm(threads))) return true;
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

async function tryCpu(): Promise<boolean> {
  return tf.setBackend('cpu');
}

const starters: Record<BackendName, (threads: number) => Promise<boolean>> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};

/** The thread count `threads` asks for. */
export function resolveThreads(threads: BackendOptions['threads'], env = process.env.DISTILLERY_WASM_THREADS): number {
  if (threads === 'auto') return wasmThreadsFromEnv(env, Math.min(MAX_WASM_THREADS, availableParallelism()));
  return threads ?? 1;
}

/** The backend's name as logs show it, with the wasm backend's thread count. */
export async function describeBackend(name: BackendName): Promise<string> {
  if (name !== 'wasm') return `'${name}'`;
  const n = await wasmThreadCount();
  return `'wasm' (${n} thread${n === 1 ? '' : 's'})`;
}

/** Parses DISTILLERY_BACKEND; throws a clear error for an unknown value. */
export function parseBackendOverride(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`DISTILLERY_BACKEND=${JSON.stringify(value)} is not a backend; use one of ${BACKEND_NAMES.join(', ')}`);
}

async function pick(log: Log, threads: number): Promise<BackendName> {
  const forced = parseBackendOverride(process.env.DISTILLERY_BACKEND);
  if (forced) {
    if (!(await starters[forced](threads))) {
      throw new Error(`DISTILLERY_BACKEND=${forced} was requested but the '${forced}' backend could not start`);
    }
    log(`distillery: compute backend ${await describeBackend(forced)} (forced by DISTILLERY_BACKEND)`);
    return forced;
  }
  for (const name of BACKEND_NAMES) {
    if (await starters[name](threads)) {
      log(`distillery: compute backend ${await describeBackend(name)}`);
      return name;
    }
  }
  throw new Error('no TF.js backend could start (tried tensorflow, wasm, cpu)');
}

/**
 * Initialises the backend on first call and returns its name; later calls return the same promise,
 * so the choice (and the thread count of the first caller's options) is announced once. `log` defaults
 * to stderr so stdout stays clean for results.
 */
export function initBackend(log: Log = (l) => process.stderr.write(l + '\n'), options: BackendOptions = {}): Promise<BackendName> {
  chosen ??= (async () => pick(log, resolveThreads(options.threads)))();
  return chosen;
}

/** Switches to a specific backend (benchmarks compare backends in one process). */
export async function useBackend(name: BackendName, options: BackendOptions = {}): Promise<boolean> {
  return starters[name](resolveThreads(options.threads));
}
