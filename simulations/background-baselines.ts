/**
 * Runs the slow baselines on their own worker thread (baseline-worker.ts) while the caller distills, and hands
 * each accuracy over when the caller asks for it. A failure of the thread rejects the accuracies it had not
 * delivered; the caller decides what to do then (the runner trains them in process).
 */
import { Worker } from 'node:worker_threads';
import type { Scenario } from './scenario.js';
import type { BaselineRequest, BaselineWorkerMessage } from './worker-messages.js';

/**
 * The baselines that train: the two cached by baseline-cache.ts, and one-shot FedAvg, whose clients are cached
 * like teachers (null when the fleet's architectures differ).
 */
export type BackgroundBaseline = 'fedavgOneShot' | 'fedavgMultiRound' | 'centralized';

export interface BackgroundBaselines {
  /** The accuracy of `kind` once the thread has it. */
  accuracy(kind: BackgroundBaseline): Promise<number | null>;
  /** Stops the thread (whatever it was doing). */
  close(): Promise<void>;
}

interface Pending {
  promise: Promise<number | null>;
  resolve: (v: number | null) => void;
  reject: (e: Error) => void;
}

function pending(): Pending {
  let resolve!: (v: number | null) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<number | null>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The caller awaits it only after distilling: until then a rejection must not count as unhandled.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export function baselinesInBackground(scenario: Scenario, seed: number, kinds: BackgroundBaseline[], log: (line: string) => void): BackgroundBaselines {
  const results = new Map(kinds.map((k) => [k, pending()]));
  const failAll = (e: Error) => results.forEach((p) => p.reject(e));
  const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { module: 'baseline-worker' } });
  worker.on('message', (m: BaselineWorkerMessage) => {
    if ('log' in m) log(m.log);
    else if ('kind' in m) results.get(m.kind)?.resolve(m.accuracy);
    else if ('error' in m) failAll(new Error(m.error));
    else void worker.terminate(); // done: every accuracy is delivered
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the baseline thread exited with code ${code} before it finished`)));
  worker.postMessage({ scenario, seed, kinds } satisfies BaselineRequest);
  return {
    accuracy: (kind) => results.get(kind)?.promise ?? Promise.reject(new Error(`${kind} was not asked of the baseline thread`)),
    close: async () => void (await worker.terminate()),
  };
}
