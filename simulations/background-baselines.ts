/**
 * Runs the baselines that train on a worker thread of their own (baseline-worker.ts) while the caller distills.
 * The thread takes them one at a time from a queue. When the caller has finished distilling it `claim`s each
 * one: those the thread has not started leave the queue and the caller trains them itself, on the cores the
 * distillation has freed, while the thread finishes the one it is on. A failure of the thread rejects the
 * accuracies it had taken and not delivered; the caller decides what to do then (the runner trains them itself).
 */
import { Worker } from 'node:worker_threads';
import type { Scenario } from './scenario.js';
import type { TrainedBaseline } from './baseline-cache.js';
import type { BaselineRequest, BaselineWorkerMessage } from './worker-messages.js';

export interface TrainedBaselines {
  /** The thread's accuracy of `kind`, waiting for the thread to get to it. */
  accuracy(kind: TrainedBaseline): Promise<number | null>;
  /**
   * The thread's accuracy of `kind` if the thread has started on it; undefined if not, and then the thread
   * never will: the caller trains it.
   */
  claim(kind: TrainedBaseline): Promise<number | null> | undefined;
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
  // The caller awaits it only after distilling, if at all: until then a rejection must not count as unhandled.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export function baselinesInBackground(scenario: Scenario, seed: number, kinds: TrainedBaseline[], log: (line: string) => void): TrainedBaselines {
  const results = new Map(kinds.map((k) => [k, pending()]));
  const queue = [...kinds];
  const failAll = (e: Error) => results.forEach((p) => p.reject(e));
  const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { module: 'baseline-worker' } });
  const send = (m: BaselineRequest) => worker.postMessage(m);
  worker.on('message', (m: BaselineWorkerMessage) => {
    if ('log' in m) log(m.log);
    else if ('next' in m) {
      const kind = queue.shift() ?? null;
      send({ kind });
      if (!kind) void worker.terminate(); // every accuracy is delivered or claimed
    } else if ('accuracy' in m) results.get(m.kind)?.resolve(m.accuracy);
    else if (m.kind) results.get(m.kind)?.reject(new Error(m.error));
    else failAll(new Error(m.error));
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the baseline thread exited with code ${code} before it finished`)));
  send({ scenario, seed });
  return {
    accuracy: (kind) => results.get(kind)?.promise ?? Promise.reject(new Error(`${kind} was not asked of the baseline thread`)),
    claim: (kind) => {
      const queued = queue.indexOf(kind);
      if (queued >= 0) queue.splice(queued, 1);
      return queued >= 0 ? undefined : results.get(kind)?.promise;
    },
    close: async () => void (await worker.terminate()),
  };
}
