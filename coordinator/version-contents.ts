/**
 * What goes into a registry version besides the student: its int8 variant (calibrated on the round's
 * synthetic samples, so the coordinator stays data-free), its metrics and its lineage. Runs in the engine
 * worker, which holds the student and the replay buffer.
 *
 * The int8 format and quantizer live in shared/quantize: the coordinator writes what agents load.
 */
import type * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import type { Dataset } from '../shared/data/dataset.js';
import { seededRandom } from '../shared/random.js';
import { Int8Model, quantizeModel, serializeQuantized } from '../shared/quantize/index.js';
import type { Distiller, RoundReport } from './engine/distiller.js';
import type { JobSpec } from './job.js';

/** Calibration samples drawn from the replay buffer for the int8 variant. */
const CALIBRATION = 256;

/** The int8 variant of `student`, with its accuracy on `test`; quantization failures are reported, not thrown. */
export function int8Variant(student: tf.LayersModel, d: Distiller, seed: number, test?: Dataset): { bytes?: Uint8Array; accuracy?: number; error?: string } {
  try {
    const calibration = d.replay.sample(CALIBRATION, seededRandom(seed * 7919 + 1)).x;
    const q = quantizeModel(student, calibration);
    const bytes = serializeQuantized(q);
    if (!test) return { bytes };
    const logits = new Int8Model(q).predict(test.x);
    const C = logits.length / test.y.length;
    let correct = 0;
    for (let i = 0; i < test.y.length; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
      if (best === test.y[i]) correct++;
    }
    return { bytes, accuracy: correct / test.y.length };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** metrics.json of a version. */
export function versionMetrics(report: RoundReport, student: tf.LayersModel, int8: ReturnType<typeof int8Variant>): Record<string, unknown> {
  return {
    accuracy: report.studentAccuracy ?? null,
    int8Accuracy: int8.accuracy ?? null,
    int8Error: int8.error ?? null,
    floatBytes: student.countParams() * 4,
    int8Bytes: int8.bytes?.byteLength ?? null,
    studentLoss: report.studentLoss,
    generatorLoss: report.generatorLoss,
    deviceLoss: report.deviceLoss,
    seconds: report.seconds,
  };
}

/** lineage.json of a version: where it came from, enough to reproduce it. */
export function versionLineage(modelId: string, job: JobSpec, report: RoundReport): Record<string, unknown> {
  return {
    modelId,
    version: report.round,
    parent: report.round > 1 ? report.round - 1 : null,
    job: job.name,
    seed: job.seed,
    round: report.round,
    rounds: report.rounds,
    devices: report.participation ?? [],
    studentSpec: job.studentSpec,
    distillSha256: createHash('sha256').update(JSON.stringify(job.distill)).digest('hex'),
    createdAt: new Date().toISOString(),
  };
}
