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
import { buildModel } from '../shared/models/build.js';
import { loadModel, saveModel } from '../shared/models/store.js';
import { fit } from '../shared/train/fit.js';
import type { Scenario } from './scenario.js';

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
  const dir = join(cacheRoot(), 'teachers', `${s.dataset}-${teacherKey(s, seed, d)}`);
  if (existsSync(join(dir, 'model.json'))) return { model: await loadModel(dir), dir };
  const local = subset(train, part.indices, `${train.name}/device-${d}`);
  const model = buildModel(s.teacherSpecs[d], { inputShape: train.sampleShape, numClasses: train.numClasses, seed: seed * 100 + d });
  const t0 = performance.now();
  await fit(model, local, { ...s.teacherTraining, seed: seed * 100 + d });
  await saveModel(model, dir);
  log(`teacher ${d}: trained on ${local.y.length} local samples in ${((performance.now() - t0) / 1000).toFixed(1)} s (cached in ${dir})`);
  return { model, dir };
}

export async function prepareTeachers(
  s: Scenario,
  seed: number,
  train: Dataset,
  parts: DevicePartition[],
  log: (line: string) => void,
): Promise<{ models: tf.LayersModel[]; dirs: string[] }> {
  const models: tf.LayersModel[] = [];
  const dirs: string[] = [];
  for (let d = 0; d < parts.length; d++) {
    const { model, dir } = await prepareTeacher(s, seed, train, parts[d], d, log);
    models.push(model);
    dirs.push(dir);
  }
  return { models, dirs };
}
