/**
 * A worker thread that trains the baselines (one-shot and multi-round FedAvg, centralized) while the coordinator
 * thread distills: the distillation keeps one core busy and the device threads use the other only while they
 * answer queries, so the baselines mostly run on time that would otherwise idle. The thread loads the data set
 * and partition itself from the scenario and seed, exactly as the runner does, and reads and writes the same
 * caches, so its accuracies are the ones an in-process run gives. It asks for one baseline at a time
 * (background-baselines.ts), so the runner can take back those it has not started.
 */
import { parentPort } from 'node:worker_threads';
import { getPriority, platform, setPriority } from 'node:os';
import { initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { partitionDataset } from '../shared/data/partition.js';
import { trainBaseline, type TrainedBaseline } from './baseline-cache.js';
import type { Scenario } from './scenario.js';
import type { BaselineRequest, BaselineWorkerMessage } from './worker-messages.js';

/** How much nicer than the distillation the baseline thread runs, on Linux (19 is the most there is). */
const NICER_BY = 10;
const post = (m: BaselineWorkerMessage) => parentPort!.postMessage(m);
const log = (line: string) => post({ log: line });
let train: (kind: TrainedBaseline) => Promise<number | null>;

/**
 * On Linux a thread has its own nice value, and setpriority on "this process" sets the calling thread's only, so
 * the baselines yield the cores to the distillation and take what it leaves idle. (Elsewhere it would slow the
 * whole process, so the thread keeps its priority there.)
 */
function yieldToDistillation(): void {
  if (platform() !== 'linux') return;
  try {
    setPriority(Math.min(19, getPriority() + NICER_BY));
    log(`baseline thread: nice ${getPriority()}, so the distillation keeps the cores it needs`);
  } catch (e) {
    log(`baseline thread: could not lower its priority (${(e as Error).message}); it shares the cores evenly`);
  }
}

async function prepare(s: Scenario, seed: number): Promise<void> {
  yieldToDistillation();
  await initBackend(() => {});
  const { train: data, test } = loadDataset(s.dataset, { limit: s.limit, splitSeed: seed });
  const parts = partitionDataset(data, { ...s.partition, seed });
  // One-shot FedAvg's clients train one after another here (0 workers): the other core is the distillation's.
  train = (kind) => trainBaseline(kind, s, seed, { train: data, test, parts }, log, 0);
}

parentPort!.on('message', async (req: BaselineRequest) => {
  if ('scenario' in req) {
    try {
      await prepare(req.scenario, req.seed);
      post({ next: true });
    } catch (e) {
      post({ error: (e as Error).message });
    }
    return;
  }
  if (!req.kind) return parentPort!.close();
  try {
    post({ kind: req.kind, accuracy: await train(req.kind) });
  } catch (e) {
    post({ kind: req.kind, error: (e as Error).message });
  }
  post({ next: true });
});
