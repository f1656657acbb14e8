/**
 * Per-teacher heads for the student (DistillConfig.teacherHeads; Hydra, Tran et al. 2020). The vote the
 * student learns from is ten numbers a sample; the devices' answers behind it are devices × ten. Heads on the
 * student's penultimate features, one per device, each learn that device's own answer, so the features are
 * shaped by every teacher's view of a sample and not only by the vote. Each head learns its device's
 * distribution over the classes the device holds (from its enrolment histogram): what a teacher says about
 * classes it never saw is noise the class-weighted vote already ignores. The heads live on the coordinator and
 * are never published. Offline, on the table's finished runs of fmnist-cnn-dir0.5 (buffer and pool, fresh
 * students, 1,000 steps) weight 0.3 gained 0.07 / 0.61 / 0.28 points on seeds 1 / 2 / 3, but in the engine it fell
 * 0.38 points behind over rounds 16–30 (ahead on seed 2 only), so it is off by default; docs/fmnist-ablations.md.
 */
import * as tf from '@tensorflow/tfjs';
import { softmaxRows } from '../../shared/math/softmax.js';
import { kdPerSample } from '../../shared/distill/losses.js';

/** Where a head's logits are pushed for a class its device does not hold: far enough to take no probability. */
const ABSENT_LOGIT = -1e4;

/**
 * The side targets of a batch: row i holds, for each device d in port order, softmax(logits_d(i) / τ) over the
 * classes d holds (0 elsewhere), or zeros when d did not answer. `answers` are the answering devices' logits
 * ([n, C] each) with their port indices.
 */
export function deviceTargetRows(answers: { device: number; logits: Float32Array }[], held: boolean[][], C: number, tau: number): Float32Array {
  const D = held.length;
  const n = answers.length ? answers[0].logits.length / C : 0;
  const rows = new Float32Array(n * D * C);
  for (const { device, logits } of answers) {
    if (!held[device]?.some(Boolean)) throw new Error(`teacherHeads: device ${device} holds no class`);
    // A class the device does not hold gets no probability: exp(−∞) is 0.
    const answer = softmaxRows(logits.map((z, k) => (held[device][k % C] ? z : -Infinity)), C, tau);
    for (let i = 0; i < n; i++) rows.set(answer.subarray(i * C, (i + 1) * C), i * D * C + device * C);
  }
  return rows;
}

/**
 * The heads' loss: τ² × the mean over (sample, device) pairs the device answered of KL(p ‖ q), q the head's
 * softmax at τ over the classes the device holds. `headLogits` and `side` are [n, D·C]; `held` is [D·C] of 1/0.
 */
export function teacherHeadsLoss(headLogits: tf.Tensor, side: tf.Tensor, held: tf.Tensor, D: number, C: number, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const n = headLogits.shape[0] as number;
    const z = tf.add(headLogits, tf.mul(tf.sub(1, held), ABSENT_LOGIT)).reshape([n * D, C]);
    const p = side.reshape([n * D, C]);
    // A device that did not answer has an all-zero row: its KL is 0 and it is not counted.
    const answered = tf.maximum(tf.sum(tf.cast(tf.greater(tf.sum(p, -1), 0), 'float32')), 1);
    return tf.mul(tau * tau, tf.div(tf.sum(kdPerSample(z, p, tau)), answered)) as tf.Scalar;
  });
}

/** The heads themselves: one dense layer of D·C logits on the student's penultimate features. */
export class TeacherHeads {
  readonly layer: tf.layers.Layer;
  /** Per device (port order), whether it holds each class: set at enrolment. */
  private held: boolean[][] = [];
  private heldMask?: tf.Tensor;

  constructor(
    featureSize: number,
    readonly devices: number,
    readonly numClasses: number,
    seed: number,
  ) {
    this.layer = tf.layers.dense({ units: devices * numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'teacher_heads' });
    this.layer.build([null, featureSize]);
  }

  /** Which classes each device holds, from the enrolment histograms (port order): the heads' masks. */
  setHeld(histograms: number[][]): void {
    this.held = histograms.map((counts) => counts.map((count) => count > 0));
    this.heldMask?.dispose();
    this.heldMask = tf.tensor1d(this.held.flatMap((row) => row.map((h) => (h ? 1 : 0))));
  }

  /** A stored batch's side targets: each answering device's answer over the classes it holds (deviceTargetRows). */
  targets(answers: { device: number; logits: Float32Array }[], tau: number): Float32Array {
    return deviceTargetRows(answers, this.held, this.numClasses, tau);
  }

  loss(features: tf.Tensor, side: tf.Tensor, tau: number): tf.Scalar {
    if (!this.heldMask) throw new Error('teacherHeads: the devices\' held classes are not known yet (enrol first)');
    return teacherHeadsLoss(this.layer.apply(features) as tf.Tensor, side, this.heldMask, this.devices, this.numClasses, tau);
  }

  dispose(): void {
    this.heldMask?.dispose();
    this.layer.dispose();
  }
}
