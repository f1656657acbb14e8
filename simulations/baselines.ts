/**
 * Baselines, in the same harness and run as the distilled student. They see what a baseline needs
 * (FedAvg uploads weights, centralized training pools the data) — which is exactly what Distillery avoids.
 *   local-only: mean test accuracy of the device teachers;
 *   ensemble: the teachers' aggregated prediction (the knowledge ceiling for distillation);
 *   one-shot FedAvg: clients start from one shared model, train locally with the teachers' budget, upload once,
 *     and the server takes the sample-weighted average (homogeneous teachers only);
 *   averaged teachers: the same average of the devices' own teachers, which start from independent
 *     initialisations (what averaging Distillery's fleet would give: near chance, kept to show why);
 *   multi-round FedAvg (McMahan et al. 2017): rounds of local epochs from the global model, then averaging;
 *   centralized: the student trained on the pooled data (the upper bound).
 */
import * as tf from '@tensorflow/tfjs';
import { subset, type Dataset } from '../shared/data/dataset.js';
import type { DevicePartition } from '../shared/data/partition.js';
import { buildModel } from '../shared/models/build.js';
import { fit, accuracyOf } from '../shared/train/fit.js';
import { predictLogits } from '../shared/train/batches.js';
import { accuracy, argmaxRows } from '../shared/metrics/index.js';
import { getAggregator } from '../shared/distill/aggregation/index.js';
import type { Scenario } from './scenario.js';
import { prepareTeachers } from './teachers.js';

/**
 * The ensemble's test accuracy under each of `strategies` (the teachers answer once). A run reports every
 * strategy's, so that a student distilled from one vote is also compared with the strongest.
 */
export function ensembleAccuracies(teachers: tf.LayersModel[], test: Dataset, strategies: readonly string[], histograms: number[][]): Record<string, number> {
  const logits = teachers.map((t) => predictLogits(t, test));
  const input = { logits, numClasses: test.numClasses, tau: 1, histograms };
  return Object.fromEntries(strategies.map((name) => [name, accuracy(argmaxRows(getAggregator(name)(input), test.numClasses), test.y)]));
}

/** Sample-weighted average of same-architecture models' weights into `target`. */
function averageInto(target: tf.LayersModel, models: tf.LayersModel[], sizes: number[]): void {
  const total = sizes.reduce((a, b) => a + b, 0);
  const averaged = tf.tidy(() =>
    target.getWeights().map((_, i) => tf.addN(models.map((m, d) => tf.mul(m.getWeights()[i], sizes[d] / total)))),
  );
  target.setWeights(averaged);
  tf.dispose(averaged);
}

function homogeneous(s: Scenario): boolean {
  return s.teacherSpecs.every((spec) => JSON.stringify(spec) === JSON.stringify(s.teacherSpecs[0]));
}

/** Test accuracy of the sample-weighted average of same-architecture models (null if they differ). */
export function averagedAccuracy(s: Scenario, models: tf.LayersModel[], parts: DevicePartition[], test: Dataset, seed: number): number | null {
  if (!homogeneous(s)) return null;
  const global = buildModel(s.teacherSpecs[0], { inputShape: test.sampleShape, numClasses: test.numClasses, seed });
  averageInto(global, models, parts.map((p) => p.indices.length));
  const acc = accuracyOf(global, test);
  global.dispose();
  return acc;
}

/**
 * One-shot FedAvg as published (e.g. DENSE's baseline): the clients' models, trained from one shared
 * initialisation with the teachers' data and budget (cached like teachers, trained on `workers` threads, or in this
 * thread with 0), averaged once.
 * The clients train the plain way: input noise and BN recalibration (`teachers.augment`, `teachers.recalibrateBn`)
 * shape the teachers' input gradients for the generator, which FedAvg has no use for.
 */
export async function fedavgOneShot(s: Scenario, train: Dataset, parts: DevicePartition[], test: Dataset, seed: number, log: (l: string) => void, workers: number): Promise<number | null> {
  if (!homogeneous(s)) return null;
  const { augment: _augment, recalibrateBn: _recalibrate, ...plain } = s.teacherTraining;
  const { models } = await prepareTeachers({ ...s, teacherTraining: plain }, seed, train, parts, log, workers, 'shared');
  const acc = averagedAccuracy(s, models, parts, test, seed);
  log(`one-shot FedAvg (shared initialisation): ${acc === null ? 'n/a' : `${(acc * 100).toFixed(2)}%`}`);
  models.forEach((m) => m.dispose());
  return acc;
}

export async function fedavgMultiRound(s: Scenario, train: Dataset, parts: DevicePartition[], test: Dataset, seed: number, log: (l: string) => void): Promise<number> {
  const spec = s.teacherSpecs[0];
  const opts = { inputShape: train.sampleShape, numClasses: train.numClasses };
  const global = buildModel(spec, { ...opts, seed });
  const locals = parts.map((_, d) => buildModel(spec, { ...opts, seed: seed + d + 1 }));
  const data = parts.map((p, d) => subset(train, p.indices, `device-${d}`));
  for (let round = 1; round <= s.baselines.fedavgRounds; round++) {
    for (const [d, local] of locals.entries()) {
      local.setWeights(global.getWeights());
      await fit(local, data[d], { epochs: s.baselines.fedavgLocalEpochs, batchSize: s.teacherTraining.batchSize, learningRate: s.teacherTraining.learningRate, seed: seed * 1000 + round * 10 + d });
    }
    averageInto(global, locals, parts.map((p) => p.indices.length));
    log(`fedavg round ${round}/${s.baselines.fedavgRounds}: test accuracy ${(accuracyOf(global, test) * 100).toFixed(2)}%`);
  }
  const acc = accuracyOf(global, test);
  [global, ...locals].forEach((m) => m.dispose());
  return acc;
}

export async function centralized(s: Scenario, train: Dataset, test: Dataset, seed: number): Promise<number> {
  const model = buildModel(s.studentSpec, { inputShape: train.sampleShape, numClasses: train.numClasses, seed });
  await fit(model, train, { epochs: s.baselines.centralizedEpochs, batchSize: 64, learningRate: 1e-3, seed });
  const acc = accuracyOf(model, test);
  model.dispose();
  return acc;
}
