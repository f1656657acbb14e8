/**
 * Class-incremental task streams (van de Ven & Tolias 2019, "Three scenarios for continual learning"): the
 * data is split by label into tasks that arrive one after another; at test time the model must tell apart
 * every class seen so far, with no task identity given.
 */
import { subset, type Dataset } from '../../shared/data/dataset.js';
import { averageAccuracy, forgetting } from './metrics.js';
import type { LifelongLearner, UpdateReport } from './learner.js';

/** Splits a dataset into tasks holding the given label groups, e.g. [[0, 1], [2, 3]]. */
export function splitByClasses(d: Dataset, groups: number[][]): Dataset[] {
  return groups.map((classes, t) => {
    const keep = new Set(classes);
    const rows: number[] = [];
    for (let i = 0; i < d.y.length; i++) if (keep.has(d.y[i])) rows.push(i);
    if (rows.length === 0) throw new Error(`splitByClasses: task ${t} (classes ${classes.join(', ')}) has no samples in ${d.name}`);
    return subset(d, rows, `${d.name}/task${t}`);
  });
}

/** Consecutive label groups of `perTask` classes: 10 classes, 2 per task -> [[0, 1], [2, 3], ...]. */
export function classIncrementalGroups(numClasses: number, perTask: number): number[][] {
  if (!Number.isInteger(perTask) || perTask < 1 || numClasses % perTask !== 0) {
    throw new Error(`classIncrementalGroups: ${numClasses} classes do not split into tasks of ${perTask}`);
  }
  return Array.from({ length: numClasses / perTask }, (_, t) => Array.from({ length: perTask }, (_, i) => t * perTask + i));
}

export interface StreamResult {
  /** accuracy[k][j]: accuracy on task j's test data after learning task k. */
  accuracy: number[][];
  /** Average accuracy after the last task (Chaudhry et al. 2018). */
  avgAcc: number;
  /** Average forgetting after the last task (Chaudhry et al. 2018). */
  forgetting: number;
  reports: UpdateReport[];
}

/** Feeds the tasks to the learner in order, testing on every task seen so far after each one. */
export async function runStream(
  learner: LifelongLearner,
  train: Dataset[],
  test: Dataset[],
  onTask?: (k: number, report: UpdateReport, accuracies: number[]) => void,
): Promise<StreamResult> {
  if (train.length !== test.length) throw new Error(`runStream: ${train.length} training tasks but ${test.length} test tasks`);
  const accuracy: number[][] = [];
  const reports: UpdateReport[] = [];
  for (let k = 0; k < train.length; k++) {
    const report = await learner.update(train[k]);
    reports.push(report);
    accuracy.push(test.slice(0, k + 1).map((t) => learner.accuracyOn(t)));
    onTask?.(k, report, accuracy[k]);
  }
  return { accuracy, avgAcc: averageAccuracy(accuracy), forgetting: forgetting(accuracy), reports };
}
