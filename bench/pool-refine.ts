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
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deviceLoss, tapBatchNorm, type TappedTeacher } from '../edge-agent/teacher/device-loss.js';
import { ceSampleWeights } from '../coordinator/engine/ce-weights.js';
import { totalVariation } from '../shared/distill/losses.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { argmaxRows } from '../shared/metrics/index.js';
import { seededRandom, type Random } from '../shared/random.js';
import type { ProceduralStyle } from '../shared/distill/procedural.js';
import { cacheRoot } from '../simulations/teachers.js';
import { teacherVote, type FleetTeachers } from './fleet-teachers.js';

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

/**
 * The summed loss the fleet's gradient queries and the coordinator's prior put on `pixels` (one batch);
 * `weights` are each device's CE weights per row, as the engine sends them (ceSampleWeights).
 */
export function fleetLoss(tapped: TappedTeacher[], weights: tf.Tensor[], pixels: tf.Tensor, targets: tf.Tensor, s: RefineSettings): tf.Scalar {
  const terms = tapped.map((t, d) => deviceLoss(t, { x: pixels, targets, sampleWeights: weights[d], weights: { ce: s.ce, bn: s.bn, adv: 0 }, ceFocal: 1 }).total);
  return tf.add(tf.addN(terms), tf.mul(s.tv, totalVariation(pixels))) as tf.Scalar;
}

/**
 * The class requested for each of n images: its top class in `votes()` (asked for only then), or one drawn
 * uniformly from `rng`, image after image.
 */
export function requestedClasses(target: RefineSettings['target'], n: number, numClasses: number, rng: Random, votes: () => Float32Array): Int32Array {
  return target === 'top' ? argmaxRows(votes(), numClasses) : Int32Array.from({ length: n }, () => rng.int(numClasses));
}

/**
 * `x` (n images in [0, 1], the teachers' sample shape) refined batch by batch toward the classes `y`.
 * Logs progress every tenth of the images.
 */
export function refineImages(teachers: FleetTeachers, x: Float32Array, y: Int32Array, s: RefineSettings, batch = 64, log: (line: string) => void = console.log): Float32Array {
  const F = teachers.sampleShape.reduce((a, b) => a * b, 1);
  const n = x.length / F;
  const C = teachers.histograms[0].length;
  // The tapped models share the teachers' layers, so they are not disposed here: that would dispose the teachers.
  const tapped = teachers.models.map(tapBatchNorm);
  const out = new Float32Array(x);
  const t0 = performance.now();
  let nextLog = 0.1;
  for (let start = 0; start < n; start += batch) {
    const rows = Math.min(batch, n - start);
    const requested = y.subarray(start, start + rows);
    const pixels = tf.variable(tf.tensor(out.subarray(start * F, (start + rows) * F), [rows, ...teachers.sampleShape]));
    const targets = tf.oneHot(tf.tensor1d(requested, 'int32'), C);
    const weights = ceSampleWeights(teachers.histograms, requested).map((w) => tf.tensor1d(w));
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
  return out;
}

/** What a refined pool depends on besides the teachers and the images as drawn (its cache key). */
export interface RefinedPoolKey {
  aggregation: string;
  tau: number;
  seed: number;
  style?: ProceduralStyle;
  candidates: number;
  refine: RefineSettings;
}

/**
 * `raw` refined by the teachers' loss, kept on disk under the simulation cache (refined-pools/) by what it
 * depends on, so that several variants and runs share one refinement (minutes per thousand images).
 */
export function refinedPool(teachers: FleetTeachers, raw: Float32Array, key: RefinedPoolKey): Float32Array {
  // The teachers' fingerprint: the first values of every weight tensor, enough to tell retrained teachers apart.
  const teachersKey = teachers.models.map((m) => m.getWeights().map((w) => Array.from(w.dataSync().subarray(0, 4)).join(',')).join(';'));
  const hash = createHash('sha256').update(JSON.stringify({ ...key, teachersKey })).digest('hex').slice(0, 16);
  const file = join(cacheRoot(), 'refined-pools', `${hash}.bin`);
  if (existsSync(file)) {
    const stored = new Float32Array(new Uint8Array(readFileSync(file)).buffer);
    if (stored.length === raw.length) {
      console.log(`refined pool from ${file}`);
      return stored;
    }
  }
  const n = raw.length / teachers.sampleShape.reduce((a, b) => a * b, 1);
  const y = requestedClasses(key.refine.target, n, teachers.histograms[0].length, seededRandom(key.seed * 17 + 3), () => teacherVote(teachers, raw, key.aggregation, key.tau));
  const x = refineImages(teachers, raw, y, key.refine);
  writeFileAtomic(file, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  return x;
}
