/**
 * The slow baselines (multi-round FedAvg, centralized training) cached on disk by exactly what they depend on,
 * like the teachers: a distillation experiment in a new output folder then reuses them instead of spending
 * about 13 minutes on Fashion-MNIST training them again. The distillation recipe is not part of the key, since
 * these baselines never see it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import type { Dataset } from '../shared/data/dataset.js';
import type { DevicePartition } from '../shared/data/partition.js';
import type { Scenario } from './scenario.js';
import { cacheRoot } from './teachers.js';
import { centralized, fedavgMultiRound, fedavgOneShot } from './baselines.js';

export type CachedBaseline = 'fedavgMultiRound' | 'centralized';

/** What each baseline's accuracy depends on (its test and training split follow from dataset, limit and seed). */
function inputsOf(kind: CachedBaseline, s: Scenario, seed: number): Record<string, unknown> {
  const data = { dataset: s.dataset, limit: s.limit, seed };
  if (kind === 'centralized') return { v: 1, kind, ...data, spec: s.studentSpec, epochs: s.baselines.centralizedEpochs };
  return {
    v: 1,
    kind,
    ...data,
    partition: s.partition,
    spec: s.teacherSpecs[0],
    rounds: s.baselines.fedavgRounds,
    localEpochs: s.baselines.fedavgLocalEpochs,
    batchSize: s.teacherTraining.batchSize,
    learningRate: s.teacherTraining.learningRate,
  };
}

export function baselineFile(kind: CachedBaseline, s: Scenario, seed: number): string {
  const key = createHash('sha256').update(JSON.stringify(inputsOf(kind, s, seed))).digest('hex').slice(0, 16);
  return join(cacheRoot(), 'baselines', `${s.dataset}-${kind}-${key}.json`);
}

/**
 * The cached accuracy of `kind` for this scenario and seed, or `compute()`'s, which is then cached with its inputs
 * and the seconds it took. An unreadable cache file is reported and recomputed, never trusted.
 */
export async function cachedBaseline(kind: CachedBaseline, s: Scenario, seed: number, compute: () => Promise<number>, log: (line: string) => void): Promise<number> {
  const file = baselineFile(kind, s, seed);
  if (existsSync(file)) {
    try {
      const entry = JSON.parse(readFileSync(file, 'utf8')) as { accuracy?: unknown };
      if (typeof entry.accuracy === 'number' && entry.accuracy >= 0 && entry.accuracy <= 1) {
        log(`${kind}: ${(entry.accuracy * 100).toFixed(2)}% (cached in ${file})`);
        return entry.accuracy;
      }
      log(`${kind}: cache file ${file} holds no accuracy in 0..1; training the baseline again`);
    } catch (e) {
      log(`${kind}: cache file ${file} is not valid JSON (${(e as Error).message}); training the baseline again`);
    }
  }
  const t0 = performance.now();
  const accuracy = await compute();
  mkdirSync(join(cacheRoot(), 'baselines'), { recursive: true });
  writeFileAtomic(file, JSON.stringify({ ...inputsOf(kind, s, seed), accuracy, seconds: (performance.now() - t0) / 1000 }, null, 2) + '\n');
  return accuracy;
}

/** The baselines that train: the two cached here, and one-shot FedAvg, whose clients are cached like teachers. */
export type TrainedBaseline = CachedBaseline | 'fedavgOneShot';

/**
 * Trains one of them (or reads it from its cache), the same way on the runner's thread and on the baseline
 * thread; `workers` threads train one-shot FedAvg's clients (0: this thread). Null: one-shot FedAvg of a fleet
 * whose architectures differ.
 */
export function trainBaseline(kind: TrainedBaseline, s: Scenario, seed: number, data: { train: Dataset; test: Dataset; parts: DevicePartition[] }, log: (line: string) => void, workers: number): Promise<number | null> {
  const { train, test, parts } = data;
  if (kind === 'fedavgOneShot') return fedavgOneShot(s, train, parts, test, seed, log, workers);
  if (kind === 'centralized') return cachedBaseline(kind, s, seed, () => centralized(s, train, test, seed), log);
  return cachedBaseline(kind, s, seed, () => fedavgMultiRound(s, train, parts, test, seed, log), log);
}
