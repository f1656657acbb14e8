/**
 * A round's student steps (the last phase of Distiller.runRound): KD steps on batches replayed from the buffer
 * (a `procedural.share` of each from the pool), optionally jittered, with the per-teacher heads' term when
 * `teacherHeads` is on, and the student's weight average updated per step or once a round. No device traffic.
 */
import * as tf from '@tensorflow/tfjs';
import type { Random } from '../../shared/random.js';
import type { DistillConfig } from './config.js';
import type { ReplayBuffer } from './replay.js';
import type { TeacherHeads } from './teacher-heads.js';
import type { WeightAverage } from './averaging.js';
import { roundDecay } from './averaging.js';
import { setLearningRate, studentLearningRate, studentStep, studentStepWithHeads } from './steps.js';
import { drawJitter, jitterEachSample, jitterEnabled } from './jitter.js';
import { withPoolShare } from './procedural-pool.js';

export interface StudentRound {
  student: tf.LayersModel;
  /** The student up to its last layer's input, sharing its weights (what the heads read). */
  features: tf.LayersModel;
  optimizer: tf.Optimizer;
  replay: ReplayBuffer;
  procedural?: ReplayBuffer;
  heads?: TeacherHeads;
  average?: WeightAverage;
  config: DistillConfig;
  sampleShape: number[];
}

/** Runs round `round`'s student steps; returns the mean KD loss and, with heads, the heads' mean loss. */
export function trainStudentRound(s: StudentRound, round: number, rng: Random): { kd: number; heads?: number } {
  const c = s.config;
  const C = s.student.outputs[0].shape[1] as number;
  let kd = 0;
  let heads = 0;
  // The buffer does not change during the student steps: one sampler serves them all.
  const draw = s.replay.classBalancedSampler(c.studentBalance);
  const drawPool = s.procedural?.classBalancedSampler(c.procedural.balance);
  for (let step = 0; step < c.studentSteps; step++) {
    setLearningRate(s.optimizer, studentLearningRate(c, round, step));
    const batch = drawPool ? withPoolShare(draw, drawPool, c.studentBatchSize, c.procedural.share, rng) : draw(c.studentBatchSize, rng);
    const shape = [batch.n, ...s.sampleShape];
    // As for the query jitter, the random stream is only drawn from when augmentation is on.
    const values = jitterEnabled(c.studentJitter) ? jitterEachSample(batch.x, shape, () => drawJitter(c.studentJitter, rng)) : batch.x;
    const x = tf.tensor(values, shape);
    const y = tf.tensor2d(batch.targets, [batch.n, C]);
    if (s.heads) {
      if (!batch.side) throw new Error('teacherHeads: a replayed batch came without the devices\' own answers');
      const side = tf.tensor2d(batch.side, [batch.n, batch.side.length / batch.n]);
      const losses = studentStepWithHeads(s.student, s.features, s.heads, c.teacherHeads, s.optimizer, x, y, side, c.tau);
      kd += losses.kd / c.studentSteps;
      heads += losses.heads / c.studentSteps;
      side.dispose();
    } else kd += studentStep(s.student, s.optimizer, x, y, c.tau) / c.studentSteps;
    if (c.studentEmaEvery === 'step') s.average?.update();
    tf.dispose([x, y]);
  }
  if (c.studentEmaEvery === 'round') s.average?.update(roundDecay(c.studentEma, round));
  return s.heads ? { kd, heads } : { kd };
}
