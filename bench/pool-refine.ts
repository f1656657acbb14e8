/**
 * Procedural images refined by the teachers' own loss (bench:replay's `procedural.refine`): starting from each
 * pool image, a few Adam steps on the pixels lower what the devices' gradient queries would return summed over
 * the fleet — each device's class-weighted CE toward a requested class plus its DeepInversion batch-norm term
 * (edge-agent/teacher/device-loss.ts) — and the coordinator's total-variation prior. DeepInversion (Yin et al.,
 * CVPR 2020) starts from noise and needs thousands of steps; here the procedural shape is the start, and the
 * question is whether pulling such images toward the teachers' feature statistics widens what the transfer set
 * covers. Offline only: the cached teachers stand in for the devices, one query per step and batch.
 */
import * as tf from '@tensorflow/tfjs';
import { deviceLoss, tapBatchNorm, type TappedTeacher } from '../edge-agent/teacher/device-loss.js';
import { totalVariation } from '../shared/distill/losses.js';
import { argmaxRows } from '../shared/metrics/index.js';
import type { Random } from '../shared/random.js';

export interface RefineSettings {
  /** Adam steps per batch of images. */
  steps: number;
  /** Adam's learning rate on pixels in [0, 1]. */
  lr: number;
  /** The requested class: the vote's top class on the image as drawn, or one drawn uniformly (a balanced pool). */
  target: 'top' | 'uniform';
  /** Weights of the devices' CE and BN terms and of the coordinator's TV prior. */
  ce: number;
  bn: number;
  tv: number;
}

export interface FleetTeachers {
  models: tf.LayersModel[];
  histograms: number[][];
  sampleShape: number[];
}

/** Each device's CE weight for class c: its share of the fleet's examples of c (as the engine weighs queries). */
function classShares(histograms: number[][]): number[][] {
  const C = histograms[0].length;
  const totals = Array.from({ length: C }, (_, c) => histograms.reduce((s, h) => s + h[c], 0));
  return histograms.map((h) => h.map((n, c) => (totals[c] > 0 ? n / totals[c] : 0)));
}

/** The summed loss the fleet's gradient queries and the coordinator's prior put on `pixels` (one batch). */
export function fleetLoss(tapped: TappedTeacher[], weights: tf.Tensor[], pixels: tf.Tensor, targets: tf.Tensor, s: RefineSettings): tf.Scalar {
  const terms = tapped.map((t, d) => deviceLoss(t, { x: pixels, targets, sampleWeights: weights[d], weights: { ce: s.ce, bn: s.bn, adv: 0 }, ceFocal: 1 }).total);
  return tf.add(tf.addN(terms), tf.mul(s.tv, totalVariation(pixels))) as tf.Scalar;
}

/** Each device's per-row CE weights for requested classes `y`. */
export function rowWeights(histograms: number[][], y: Int32Array): tf.Tensor1D[] {
  return classShares(histograms).map((share) => tf.tensor1d(Float32Array.from(y, (c) => share[c])));
}

/**
 * `x` (n images in [0, 1], the teachers' sample shape) refined batch by batch; `votes` are the images' soft
 * labels as drawn (for `target: 'top'`). Logs progress every tenth of the images.
 */
export function refineImages(teachers: FleetTeachers, x: Float32Array, votes: Float32Array, s: RefineSettings, rng: Random, batch = 64, log: (line: string) => void = console.log): Float32Array {
  const F = teachers.sampleShape.reduce((a, b) => a * b, 1);
  const n = x.length / F;
  const C = teachers.histograms[0].length;
  const top = argmaxRows(votes, C);
  const tapped = teachers.models.map(tapBatchNorm);
  const out = new Float32Array(x);
  const t0 = performance.now();
  let nextLog = 0.1;
  for (let start = 0; start < n; start += batch) {
    const rows = Math.min(batch, n - start);
    const y = Int32Array.from({ length: rows }, (_, i) => (s.target === 'top' ? top[start + i] : rng.int(C)));
    const pixels = tf.variable(tf.tensor(out.subarray(start * F, (start + rows) * F), [rows, ...teachers.sampleShape]));
    const targets = tf.oneHot(tf.tensor1d(y, 'int32'), C);
    const weights = rowWeights(teachers.histograms, y);
    const opt = tf.train.adam(s.lr);
    for (let k = 0; k < s.steps; k++) {
      opt.minimize(() => fleetLoss(tapped, weights, pixels, targets, s), false, [pixels]);
      tf.tidy(() => { pixels.assign(tf.clipByValue(pixels, 0, 1)); });
    }
    out.set(pixels.dataSync(), start * F);
    tf.dispose([pixels, targets, ...weights]);
    opt.dispose();
    if ((start + rows) / n >= nextLog) {
      log(`refine: ${start + rows}/${n} images (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      nextLog += 0.1;
    }
  }
  // The tapped models share the teachers' layers: disposing them would dispose the teachers' weights.
  return out;
}
