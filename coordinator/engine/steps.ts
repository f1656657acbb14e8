/**
 * The two updates of data-free distillation, as functions of plain data so the loop in distiller.ts stays
 * readable: one generator step driven by device-returned input gradients, and one student step on a
 * replayed batch of synthetic samples with aggregated soft labels.
 */
import * as tf from '@tensorflow/tfjs';
import type { TeacherHeads } from './teacher-heads.js';
import { historyRepulsion, kdLoss, l1Disagreement, meanSquare, modeSeeking, totalVariation } from '../../shared/distill/losses.js';
import type { DistillConfig } from './config.js';

/** History repulsion's inputs (see historyRepulsion in losses.ts). */
export interface HistoryRepulsionInputs {
  /** The student's penultimate-feature model (sharing the student's weights). */
  features: tf.LayersModel;
  /** Features of earlier samples, held constant. */
  bank: tf.Tensor;
  temperature: number;
  weight: number;
}

export interface GeneratorStepInputs {
  z: tf.Tensor;
  yOneHot: tf.Tensor;
  /** Σ over devices of dL_d/dx, the same shape as G's output. */
  deviceGradient: tf.Tensor;
  /** Per-device teacher probabilities on this batch (constants), for the student-side disagreement. */
  teacherProbs: tf.Tensor[];
  coordinatorAdv: number;
  diversity: number;
  /** Image-prior weights (total variation on rank-4 images, mean square on any sample); absent: none. */
  imagePrior?: { tv: number; l2: number };
  /** History repulsion against a bank of earlier samples; absent: off. */
  history?: HistoryRepulsionInputs;
  /** The same zoom, jitter and cutout the devices' inputs went through (identity when absent). */
  augment?: (x: tf.Tensor) => tf.Tensor;
}

/**
 * Chain rule across the port: the devices returned g = ∂L/∂x; ∂L/∂θ = (∂x/∂θ)ᵀ g is the gradient of the
 * surrogate Σ x·g with g held constant. Coordinator-side terms are added to the same objective.
 */
export function generatorStep(G: tf.LayersModel, S: tf.LayersModel, opt: tf.Optimizer, s: GeneratorStepInputs): number {
  const loss = opt.minimize(
    () => {
      const generated = G.apply([s.z, s.yOneHot], { training: true }) as tf.Tensor;
      const x = s.augment ? s.augment(generated) : generated;
      let objective = tf.sum(tf.mul(x, s.deviceGradient)) as tf.Scalar;
      if (s.coordinatorAdv > 0 && s.teacherProbs.length) {
        const studentProbs = tf.softmax(S.apply(x, { training: false }) as tf.Tensor);
        const disagreement = tf.addN(s.teacherProbs.map((p) => l1Disagreement(p, studentProbs)));
        objective = tf.sub(objective, tf.mul(s.coordinatorAdv, disagreement));
      }
      if (s.diversity > 0) objective = tf.sub(objective, tf.mul(s.diversity, modeSeeking(x, s.z)));
      if (s.imagePrior?.tv && x.rank === 4) objective = tf.add(objective, tf.mul(s.imagePrior.tv, totalVariation(x)));
      if (s.history) {
        const features = s.history.features.apply(x, { training: false }) as tf.Tensor;
        objective = tf.add(objective, tf.mul(s.history.weight, historyRepulsion(features, s.history.bank, s.history.temperature)));
      }
      if (s.imagePrior?.l2) objective = tf.add(objective, tf.mul(s.imagePrior.l2, meanSquare(x)));
      return objective;
    },
    true,
    G.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  const value = loss!.dataSync()[0];
  loss!.dispose();
  return value;
}

/** A student loss: (student logits, target distributions at τ, τ) → scalar (kdLoss, logitMatchLoss). */
export type StudentLoss = (studentLogits: tf.Tensor, targetProbs: tf.Tensor, tau: number) => tf.Scalar;

/** One KD step of the student on a replayed batch (KL at τ unless another loss is given). Returns the loss. */
export function studentStep(S: tf.LayersModel, opt: tf.Optimizer, x: tf.Tensor, targets: tf.Tensor, tau: number, loss: StudentLoss = kdLoss): number {
  const result = opt.minimize(() => loss(S.apply(x, { training: true }) as tf.Tensor, targets, tau), true, S.trainableWeights.map((w) => w.read() as tf.Variable));
  const value = result!.dataSync()[0];
  result!.dispose();
  return value;
}

/**
 * studentStep with the per-teacher heads' loss added at `weight` (DistillConfig.teacherHeads): the student's
 * KL to the vote on its own output, plus the heads' KL to each device's answer (`side`) on the same features.
 * The optimizer updates the student and the heads together. Returns both losses, the heads' unweighted.
 */
export function studentStepWithHeads(S: tf.LayersModel, features: tf.LayersModel, heads: TeacherHeads, weight: number, opt: tf.Optimizer, x: tf.Tensor, targets: tf.Tensor, side: tf.Tensor, tau: number): { kd: number; heads: number } {
  const output = S.layers[S.layers.length - 1];
  const vars = [...S.trainableWeights, ...heads.layer.trainableWeights].map((w) => w.read() as tf.Variable);
  let parts: tf.Scalar[] = [];
  // No cost returned: the two parts are kept instead, to be read apart.
  opt.minimize(() => {
    const f = features.apply(x, { training: true }) as tf.Tensor;
    parts = [kdLoss(output.apply(f) as tf.Tensor, targets, tau), heads.loss(f, side, tau)].map((t) => tf.keep(t));
    return tf.add(parts[0], tf.mul(weight, parts[1])) as tf.Scalar;
  }, false, vars);
  const [kd, headLoss] = parts.map((t) => t.dataSync()[0]);
  tf.dispose(parts);
  return { kd, heads: headLoss };
}

/** The student's learning rate at (round, step) under the configured schedule. */
export function studentLearningRate(c: DistillConfig, round: number, step: number): number {
  if (c.studentLrSchedule === 'constant') return c.studentLr;
  // Cosine decays over every step of the run; cooldown over those of its last studentCooldownRounds rounds.
  const decayRounds = c.studentLrSchedule === 'cooldown' ? c.studentCooldownRounds : c.rounds;
  const firstRound = c.rounds - decayRounds + 1;
  if (round < firstRound) return c.studentLr;
  const total = decayRounds * c.studentSteps;
  const k = (round - firstRound) * c.studentSteps + step;
  const progress = total > 1 ? Math.min(1, k / (total - 1)) : 0;
  const floor = 0.01 * c.studentLr;
  return floor + 0.5 * (c.studentLr - floor) * (1 + Math.cos(Math.PI * progress));
}

/** TF.js optimizers read their (protected) learningRate on every update. */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  (opt as unknown as { learningRate: number }).learningRate = lr;
}
