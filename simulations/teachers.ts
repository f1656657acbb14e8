/**
 * Per-device teachers for a simulated fleet: trained once on each device's partition and cached on disk
 * by (dataset, partition, seed, spec, training), so distillation experiments iterate in minutes.
 */
import type * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { subset, type Dataset } from '../shared/data/dataset.js';
import type { DevicePartition } from '../shared/data/partition.js';
import { loadModel, saveModel } from '../shared/models/store.js';
import { recalibrateBatchNorm } from '../shared/train/recalibrate.js';
import { teacherClassStats, type ClassBatchNormStats } from '../edge-agent/teacher/class-stats.js';
import { epochLine, trainedLine, trainTeacher } from './teacher-training.js';
import type { Scenario } from './scenario.js';
import { trainInWorkers } from './worker-ports.js';
import type { TeacherTrainingJob } from './worker-messages.js';

export function cacheRoot(): string {
  return process.env.DISTILLERY_CACHE || new URL('../.cache', import.meta.url).pathname;
}

/**
 * How a device's model starts. `own`: each device draws its own initialisation (seeded by seed and device),
 * as a fleet's devices do. `shared`: every device starts from one initial model (seeded by the run's seed
 * alone), as FedAvg's clients start from the server's global model; one-shot FedAvg averages these.
 */
export type Initialisation = 'own' | 'shared';

const roleOf = (init: Initialisation) => (init === 'shared' ? 'FedAvg client' : 'teacher');

export function teacherKey(s: Scenario, seed: number, device: number, init: Initialisation = 'own'): string {
  const key = JSON.stringify({ v: 1, dataset: s.dataset, limit: s.limit, partition: s.partition, seed, device, spec: s.teacherSpecs[device], training: s.teacherTraining, ...(init === 'shared' ? { init } : {}) });
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** One device's teacher: loaded from the cache, or trained on its partition and cached. */
export async function prepareTeacher(
  s: Scenario,
  seed: number,
  train: Dataset,
  part: DevicePartition,
  d: number,
  log: (line: string) => void,
  init: Initialisation = 'own',
): Promise<{ model: tf.LayersModel; dir: string }> {
  const dir = teacherDir(s, seed, d, init);
  if (existsSync(join(dir, 'model.json')) || (await deriveRecalibrated(s, seed, train, part, d, log, init))) return { model: await loadModel(dir), dir };
  const { model, seconds } = await trainTeacher(trainingJob(s, seed, train, part, d, init), (p) => log(epochLine(p, roleOf(init))));
  log(trainedLine(d, part.indices.length, seconds, dir, roleOf(init)));
  return { model, dir };
}

function withoutRecalibration(s: Scenario): Scenario {
  const { recalibrateBn: _, ...training } = s.teacherTraining;
  return { ...s, teacherTraining: training };
}

/**
 * A recalibrated teacher is the plain one with re-estimated BN statistics, so when the plain one is cached the
 * recalibrated one is derived from it in seconds instead of trained again (the same weights either way).
 */
async function deriveRecalibrated(s: Scenario, seed: number, train: Dataset, part: DevicePartition, d: number, log: (line: string) => void, init: Initialisation): Promise<boolean> {
  if (!s.teacherTraining.recalibrateBn) return false;
  const plainDir = teacherDir(withoutRecalibration(s), seed, d, init);
  if (!existsSync(join(plainDir, 'model.json'))) return false;
  const model = await loadModel(plainDir);
  const layers = recalibrateBatchNorm(model, subset(train, part.indices, `${train.name}/device-${d}`));
  const dir = teacherDir(s, seed, d, init);
  await saveModel(model, dir);
  model.dispose();
  log(`${roleOf(init)} ${d}: ${layers} BN layer${layers === 1 ? '' : 's'} recalibrated on ${part.indices.length} local samples from ${plainDir} (cached in ${dir})`);
  return true;
}

function teacherDir(s: Scenario, seed: number, d: number, init: Initialisation): string {
  return join(cacheRoot(), init === 'shared' ? 'fedavg-clients' : 'teachers', `${s.dataset}-${teacherKey(s, seed, d, init)}`);
}

/**
 * What training device d's model takes: its own partition only, and the data order fixed by (seed, device);
 * the initialisation is the device's own or the shared one (seed * 100 + 99, which no device's own uses).
 */
function trainingJob(s: Scenario, seed: number, train: Dataset, part: DevicePartition, d: number, init: Initialisation): TeacherTrainingJob {
  return {
    device: d,
    spec: s.teacherSpecs[d],
    data: subset(train, part.indices, `${train.name}/device-${d}`),
    modelSeed: init === 'shared' ? seed * 100 + 99 : seed * 100 + d,
    training: { ...withoutRecalibration(s).teacherTraining, seed: seed * 100 + d },
    ...(s.teacherTraining.recalibrateBn ? { recalibrateBn: true } : {}),
    dir: teacherDir(s, seed, d, init),
  };
}

/**
 * Every device's teacher (or, with `init` 'shared', every one-shot FedAvg client). With `workers` > 0 the uncached
 * ones train in parallel on that many threads (devices are independent); the weights are the same as training
 * them one after another in this thread.
 */
export async function prepareTeachers(
  s: Scenario,
  seed: number,
  train: Dataset,
  parts: DevicePartition[],
  log: (line: string) => void,
  workers = 0,
  init: Initialisation = 'own',
): Promise<{ models: tf.LayersModel[]; dirs: string[] }> {
  const cached = async (d: number) => existsSync(join(teacherDir(s, seed, d, init), 'model.json')) || (await deriveRecalibrated(s, seed, train, parts[d], d, log, init));
  const missing: number[] = [];
  for (let d = 0; d < parts.length; d++) if (!(await cached(d))) missing.push(d);
  if (workers > 0 && missing.length > 1) {
    const jobs = missing.map((d) => trainingJob(s, seed, train, parts[d], d, init));
    log(`training ${jobs.length} ${roleOf(init)}s on ${Math.min(workers, jobs.length)} worker threads`);
    await trainInWorkers(
      jobs,
      workers,
      (job, seconds) => log(trainedLine(job.device, parts[job.device].indices.length, seconds, job.dir, roleOf(init))),
      (p) => log(epochLine(p, roleOf(init))),
    );
  }
  const models: tf.LayersModel[] = [];
  const dirs: string[] = [];
  for (let d = 0; d < parts.length; d++) {
    const { model, dir } = await prepareTeacher(s, seed, train, parts[d], d, log, init);
    models.push(model);
    dirs.push(dir);
  }
  return { models, dirs };
}

/**
 * Each device's per-class BN statistics, measured on its own partition (for bnClassMix 'class'), or undefined
 * when the recipe does not ask for them. Cheap next to training: one inference pass over each partition.
 */
export function deviceClassStats(s: Scenario, models: tf.LayersModel[], train: Dataset, parts: DevicePartition[], log: (line: string) => void): (ClassBatchNormStats | undefined)[] | undefined {
  if (s.distill.bnClassMix !== 'class') return undefined;
  const t0 = performance.now();
  const stats = models.map((m, d) => teacherClassStats(m, subset(train, parts[d].indices)));
  log(`per-class batch-norm statistics of ${models.length} teachers measured on their own data in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return stats;
}
