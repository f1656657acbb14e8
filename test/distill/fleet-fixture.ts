/** A small digits fleet for engine tests: 3 devices, quickly trained CNN teachers with batch norm. */
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { loadDataset } from '../../shared/data/registry.js';
import { partitionDataset, type DevicePartition } from '../../shared/data/partition.js';
import { subset, type Dataset } from '../../shared/data/dataset.js';
import { buildModel } from '../../shared/models/build.js';
import { fit } from '../../shared/train/fit.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { teacherClassStats, type ClassBatchNormStats } from '../../edge-agent/teacher/class-stats.js';

export const TEACHER_SPEC = { kind: 'cnn', conv: [8, 16], dense: [32], batchNorm: true };
export const STUDENT_SPEC = { kind: 'cnn', conv: [8, 16], dense: [32] };

export interface Fleet {
  train: Dataset;
  test: Dataset;
  parts: DevicePartition[];
  models: tf.LayersModel[];
  /** The devices' teachers behind ports; with `classStats`, also able to answer bnClassMix 'class'. */
  ports: (classStats?: boolean) => LocalTeacher[];
  /** Each device's per-class BN statistics on its own partition (what `ports(true)` serves with). */
  classStats: () => ClassBatchNormStats[];
}

export async function digitsFleet(devices = 3, epochs = 30): Promise<Fleet> {
  await initBackend(() => {});
  const { train, test } = loadDataset('digits', { splitSeed: 1 });
  const parts = partitionDataset(train, { scheme: 'dirichlet', alpha: 1, devices, seed: 1 });
  const models: tf.LayersModel[] = [];
  for (const [d, p] of parts.entries()) {
    const model = buildModel(TEACHER_SPEC, { inputShape: [8, 8, 1], numClasses: 10, seed: 10 + d });
    await fit(model, subset(train, p.indices), { epochs, batchSize: 32, learningRate: 0.003, seed: d });
    models.push(model);
  }
  let measured: ClassBatchNormStats[] | undefined;
  const classStats = () => (measured ??= models.map((m, d) => teacherClassStats(m, subset(train, parts[d].indices))!));
  return {
    train,
    test,
    parts,
    models,
    ports: (withStats = false) => models.map((model, d) => new LocalTeacher({ deviceId: `device-${d}`, model, labelHistogram: parts[d].histogram, ...(withStats ? { classStats: classStats()[d] } : {}) })),
    classStats,
  };
}
