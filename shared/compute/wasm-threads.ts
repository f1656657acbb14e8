/**
 * Multi-threaded XNNPACK for the wasm backend under Node.
 *
 * tfjs-backend-wasm ships a threaded SIMD build but turns it off in Node (WASM_HAS_MULTITHREAD_SUPPORT is
 * false there, tensorflow/tfjs#3830), and it would not start anyway:
 *  - its pthread workers are created from a blob: URL, which Node's Worker refuses, and the worker
 *    imports the factory from another blob: URL;
 *  - backend.cc caps the XNNPACK pool at emscripten_num_logical_cores() / 2 (it assumes hyper-threads),
 *    which Node answers with os.cpus().length, so a 2-core machine gets one thread.
 * prepareWasmThreads() works around all three: it writes the stock worker script to a file with the
 * factory loaded from its path, hands that path out where the backend asks for the blob URL, and makes
 * os.cpus() look twice the requested thread count while the backend initialises. The threads split each
 * XNNPACK operator's output tiles, so results are bit-identical to one thread (a test proves it); on the
 * 2-core machine a training step takes 0.71x (conv 32-64 / dense 128) to 0.91x (conv 16-32 / dense 64) the time.
 *
 * Emscripten keeps its pthread workers referenced, which would keep a finished process alive;
 * releaseWasmThreads() unrefs them once the backend is up.
 */
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);

/** The stock worker's load step, which imports the factory from a blob: URL when it is not given a path. */
const FACTORY_IMPORT =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

/** Most threads the backend will use (tfjs pre-creates 8 pthread workers). */
export const MAX_WASM_THREADS = 8;

/** DISTILLERY_WASM_THREADS, or `fallback`; throws a clear error for anything but an integer 1..8. */
export function wasmThreadsFromEnv(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS)
    throw new Error(`DISTILLERY_WASM_THREADS=${JSON.stringify(value)} is not a thread count; use an integer from 1 to ${MAX_WASM_THREADS}`);
  return n;
}

/** The worker script, written once per content under the OS temp folder (Node's Worker needs a file). */
function workerScript(): string {
  const wasmOut = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'wasm-out');
  const factory = join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  if (!wasmWorkerContents.includes(FACTORY_IMPORT)) throw new Error('the tfjs-backend-wasm worker script is not the one this workaround knows (tfjs-backend-wasm 4.22)');
  // The backend escapes newlines the same way before it makes its blob: the template literal unescaped them.
  const source = wasmWorkerContents.replace(/\n/g, '\\n').replace(FACTORY_IMPORT, `importScripts(${JSON.stringify(factory)});`);
  const file = join(os.tmpdir(), `distillery-wasm-worker-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.cjs`);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== source) {
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, source);
    renameSync(partial, file);
  }
  return file;
}

let restore: (() => void) | undefined;

/**
 * Sets the wasm backend up to start with `threads` XNNPACK threads; call before tf.setBackend('wasm'),
 * then releaseWasmThreads() after it, whether or not it started. Throws (changing nothing) when the
 * worker script cannot be prepared.
 */
export async function prepareWasmThreads(threads: number): Promise<void> {
  const file = workerScript();
  const { setThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  const createObjectURL = URL.createObjectURL;
  // node:os's namespace is read-only here; the CommonJS module object (what the backend's require sees) is not.
  const osModule = require('node:os') as typeof os;
  const cpus = osModule.cpus;
  URL.createObjectURL = ((blob: Blob) => (blob instanceof Blob && blob.type === 'application/javascript' ? file : createObjectURL(blob))) as typeof URL.createObjectURL;
  osModule.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  restore = () => {
    URL.createObjectURL = createObjectURL;
    osModule.cpus = cpus;
  };
}

interface PThreadWorkers {
  unusedWorkers: { unref(): void }[];
  runningWorkers: { unref(): void }[];
}

/** Undoes prepareWasmThreads' patches and lets the process exit with the pthread workers still alive. */
export function releaseWasmThreads(): void {
  restore?.();
  restore = undefined;
  const backend = tf.findBackend('wasm') as { wasm?: { PThread?: PThreadWorkers } } | null;
  const pthreads = backend?.wasm?.PThread;
  for (const worker of [...(pthreads?.unusedWorkers ?? []), ...(pthreads?.runningWorkers ?? [])]) worker.unref();
}

/** The XNNPACK thread count of the started wasm backend (1 when it runs single-threaded). */
export async function wasmThreadCount(): Promise<number> {
  const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  return Math.max(1, getThreadsCount());
}
