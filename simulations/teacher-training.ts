/**
 * Training one device's teacher, the same code on the main thread and on a worker thread, so a teacher's
 * weights do not depend on where it was trained.
 */
import type * as tf from '@tensorflow/tfjs';
import { buildModel } from '../shared/models/build.js';
import { saveModel } from '../shared/models/store.js';
import { fit } from '../shared/train/fit.js';
import { recalibrateBatchNorm } from '../shared/train/recalibrate.js';
import type { TeacherTrainingJob, TrainingProgress } from './worker-messages.js';

/** Builds, trains and saves the job's teacher to its cache folder; returns it and the seconds it took. */
export async function trainTeacher(job: TeacherTrainingJob, onEpoch?: (p: TrainingProgress) => void): Promise<{ model: tf.LayersModel; seconds: number }> {
  const t0 = performance.now();
  const model = buildModel(job.spec, { inputShape: job.data.sampleShape, numClasses: job.data.numClasses, seed: job.modelSeed });
  const epochs = job.training.epochs;
  await fit(model, job.data, { ...job.training, onEpoch: (e) => onEpoch?.({ device: job.device, epoch: e.epoch, epochs, loss: e.loss, seconds: e.seconds }) });
  if (job.recalibrateBn) recalibrateBatchNorm(model, job.data);
  await saveModel(model, job.dir);
  return { model, seconds: (performance.now() - t0) / 1000 };
}

export function epochLine(p: TrainingProgress, role = 'teacher'): string {
  return `${role} ${p.device}: epoch ${p.epoch}/${p.epochs}, loss ${p.loss.toFixed(3)} (${p.seconds.toFixed(1)} s)`;
}

export function trainedLine(device: number, samples: number, seconds: number, dir: string, role = 'teacher'): string {
  return `${role} ${device}: trained on ${samples} local samples in ${seconds.toFixed(1)} s (cached in ${dir})`;
}
