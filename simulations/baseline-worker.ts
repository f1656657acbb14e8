/**
 * A worker thread that trains the baselines (one-shot and multi-round FedAvg, centralized) while the coordinator
 * thread distills: the distillation keeps one core busy and the device threads use the other only while they
 * answer queries, so the baselines mostly run on time that would otherwise idle. The thread loads the data set
 * and partition itself from the scenario and seed, exactly as the runner does, and reads and writes the same
 * baseline cache, so its accuracies are the ones an in-process run gives.
 */
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { partitionDataset } from '../shared/data/partition.js';
import { centralized, fedavgMultiRound, fedavgOneShot } from './baselines.js';
import { cachedBaseline } from './baseline-cache.js';
import type { BaselineRequest, BaselineWorkerMessage } from './worker-messages.js';

const post = (m: BaselineWorkerMessage) => parentPort!.postMessage(m);

parentPort!.on('message', async (req: BaselineRequest) => {
  try {
    await initBackend(() => {});
    const s = req.scenario;
    const { train, test } = loadDataset(s.dataset, { limit: s.limit, splitSeed: req.seed });
    const log = (line: string) => post({ log: line });
    const parts = partitionDataset(train, { ...s.partition, seed: req.seed });
    for (const kind of req.kinds) {
      // One-shot FedAvg's clients train one after another here: the other core is the distillation's.
      const accuracy = kind === 'fedavgOneShot'
        ? await fedavgOneShot(s, train, parts, test, req.seed, log, 0)
        : await cachedBaseline(kind, s, req.seed, kind === 'centralized' ? () => centralized(s, train, test, req.seed) : () => fedavgMultiRound(s, train, parts, test, req.seed, log), log);
      post({ kind, accuracy });
    }
    post({ done: true });
  } catch (e) {
    post({ error: (e as Error).message });
  }
});
