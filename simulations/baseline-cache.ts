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
import type { Scenario } from './scenario.js';
import { cacheRoot } from './teachers.js';

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
