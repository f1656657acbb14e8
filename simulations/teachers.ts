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
import { loadModel } from '../shared/models/store.js';
import { trainedLine, trainTeacher } from './teacher-training.js';
import type { Scenario } from './scenario.js';
import { trainInWorkers } from './worker-ports.js';
import type { TeacherTrainingJob } from './worker-messages.js';

export function cacheRoot(): string {
  return process.env.DISTILLERY_CACHE || new URL('../.cache', import.meta.url).pathname;
}

export function teacherKey(s: Scenario, seed: number, device: number): string {
  const key = JSON.stringify({ v: 1, dataset: s.dataset, limit: s.limit, partition: s.partition, seed, device, spec: s.teacherSpecs[device], training: s.teacherTraining });
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
): Promise<{ model: tf.LayersModel; dir: string }> {
  const dir = teacherDir(s, seed, d);
  if (existsSync(join(dir, 'model.json'))) return { model: await loadModel(dir), dir };
  const { model, seconds } = await trainTeacher(trainingJob(s, seed, train, part, d));
  log(trainedLine(d, part.indices.length, seconds, dir));
  return { model, dir };
}

function teacherDir(s: Scenario, seed: number, d: number): string {
  return join(cacheRoot(), 'teachers', `${s.dataset}-${teacherKey(s, seed, d)}`);
}

/** What training device d's teacher takes: its own partition only, and seeds fixed by (seed, device). */
function trainingJob(s: Scenario, seed: number, train: Dataset, part: DevicePartition, d: number): TeacherTrainingJob {
  return {
    device: d,
    spec: s.teacherSpecs[d],
    data: subset(train, part.indices, `${train.name}/device-${d}`),
    modelSeed: seed * 100 + d,
    training: { ...s.teacherTraining, seed: seed * 100 + d },
    dir: teacherDir(s, seed, d),
  };
}

/**
 * Every device's teacher. With `workers` > 0 the uncached ones train in parallel on that many threads (devices
 * are independent); the weights are the same as training them one after another in this thread.
 */
export async function prepareTeachers(
  s: Scenario,
  seed: number,
  train: Dataset,
  parts: DevicePartition[],
  log: (line: string) => void,
  workers = 0,
): Promise<{ models: tf.LayersModel[]; dirs: string[] }> {
  const missing = parts.map((_, d) => d).filter((d) => !existsSync(join(teacherDir(s, seed, d), 'model.json')));
  if (workers > 0 && missing.length > 1) {
    const jobs = missing.map((d) => trainingJob(s, seed, train, parts[d], d));
    log(`training ${jobs.length} teachers on ${Math.min(workers, jobs.length)} worker threads`);
    await trainInWorkers(jobs, workers, (job, seconds) => log(trainedLine(job.device, parts[job.device].indices.length, seconds, job.dir)));
  }
  const models: tf.LayersModel[] = [];
  const dirs: string[] = [];
  for (let d = 0; d < parts.length; d++) {
    const { model, dir } = await prepareTeacher(s, seed, train, parts[d], d, log);
    models.push(model);
    dirs.push(dir);
  }
  return { models, dirs };
}
