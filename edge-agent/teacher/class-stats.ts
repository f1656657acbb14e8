/**
 * Per-class batch-norm statistics: for every BN layer of a teacher, the mean and variance of the layer's input
 * over the device's own samples of each class (over samples and spatial positions, per channel).
 *
 * A label-skewed device's running BN statistics describe its own class mix, so DeepInversion's term pulls
 * every synthetic sample, whatever its class, toward that mix. Statistics per class describe what class c
 * looks like inside the teacher, so a sample asked to be c can be compared with c alone (BnClassMix 'class').
 * They are computed on the device from its own data and, like the teacher's weights, never leave it.
 */
import * as tf from '@tensorflow/tfjs';
import { sampleCount, type Dataset } from '../../shared/data/dataset.js';
import { allRows, batchTensor } from '../../shared/train/batches.js';
import { tapBatchNorm, type TappedTeacher } from './device-loss.js';

/** One BN layer's input statistics per class: [numClasses × channels] row-major. */
export interface LayerClassStats {
  channels: number;
  mean: Float32Array;
  variance: Float32Array;
}

export interface ClassBatchNormStats {
  numClasses: number;
  /** Samples of each class the statistics were measured on (0: no statistics for that class). */
  counts: number[];
  /** In the order of the teacher's BN layers. */
  layers: LayerClassStats[];
}

/**
 * Measures per-class statistics of every BN layer's input over `data`, in inference mode (the mode the
 * device-side loss runs the teacher in), `batchSize` samples at a time. Accumulates in float64.
 */
export function measureClassBatchNormStats(tapped: TappedTeacher, data: Dataset, batchSize = 256): ClassBatchNormStats {
  const C = data.numClasses;
  const n = sampleCount(data);
  const counts = new Array<number>(C).fill(0);
  for (const y of data.y) counts[y]++;
  const sums: { s1: Float64Array; s2: Float64Array; channels: number; positions: number }[] = [];
  const rows = allRows(n);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const batch = tf.tidy(() => {
      const applied = tapped.model.apply(batchTensor(data, rows, start, end), { training: false }) as tf.Tensor | tf.Tensor[];
      // [logits, ...BN inputs]; a teacher without BN layers has logits alone, and no statistics to measure.
      const outputs = Array.isArray(applied) ? applied : [applied];
      const oneHotT = tf.transpose(tf.cast(tf.oneHot(tf.tensor1d(data.y.subarray(start, end), 'int32'), C), 'float32')); // [C, b]
      return outputs.slice(1).map((h) => {
        const channels = h.shape[h.rank - 1]!;
        const perSample = tf.reshape(h, [end - start, -1, channels]);
        // Σ over the batch's samples of each class of Σ over positions of h and h².
        return { s1: tf.matMul(oneHotT, tf.sum(perSample, 1)), s2: tf.matMul(oneHotT, tf.sum(tf.square(perSample), 1)), channels, positions: perSample.shape[1]! };
      });
    });
    batch.forEach((b, l) => {
      sums[l] ??= { s1: new Float64Array(C * b.channels), s2: new Float64Array(C * b.channels), channels: b.channels, positions: b.positions };
      const [s1, s2] = [b.s1.dataSync(), b.s2.dataSync()];
      for (let k = 0; k < s1.length; k++) {
        sums[l].s1[k] += s1[k];
        sums[l].s2[k] += s2[k];
      }
      tf.dispose([b.s1, b.s2]);
    });
  }
  const layers = sums.map(({ s1, s2, channels, positions }) => {
    const mean = new Float32Array(C * channels);
    const variance = new Float32Array(C * channels);
    for (let c = 0; c < C; c++) {
      const m = counts[c] * positions;
      if (m === 0) continue;
      for (let k = c * channels; k < (c + 1) * channels; k++) {
        mean[k] = s1[k] / m;
        variance[k] = Math.max(0, s2[k] / m - (s1[k] / m) ** 2);
      }
    }
    return { channels, mean, variance };
  });
  return { numClasses: C, counts, layers };
}

/** Checks statistics received from elsewhere (a worker thread, a file) against the teacher they are for. */
export function checkClassStats(stats: ClassBatchNormStats, tapped: TappedTeacher, numClasses: number, deviceId: string): void {
  const problem = (what: string) => new Error(`device ${deviceId}: per-class batch-norm statistics ${what}`);
  if (stats.numClasses !== numClasses) throw problem(`are for ${stats.numClasses} classes, the teacher has ${numClasses}`);
  if (stats.counts.length !== numClasses) throw problem(`count samples of ${stats.counts.length} classes, the teacher has ${numClasses}`);
  if (stats.layers.length !== tapped.bnStats.length) throw problem(`cover ${stats.layers.length} BN layers, the teacher has ${tapped.bnStats.length}`);
  stats.layers.forEach((l, i) => {
    const channels = tapped.bnStats[i].mean.size;
    if (l.channels !== channels || l.mean.length !== numClasses * channels || l.variance.length !== numClasses * channels) {
      throw problem(`of BN layer ${i} have ${l.channels} channels (${l.mean.length} means), the layer ${channels}`);
    }
  });
}

/**
 * The statistics a device serves bnClassMix 'class' queries with: measured on `data` when the teacher has BN
 * layers, undefined when it has none (the BN term then does not apply).
 */
export function teacherClassStats(model: tf.LayersModel, data: Dataset): ClassBatchNormStats | undefined {
  const tapped = tapBatchNorm(model);
  return tapped.bnStats.length && sampleCount(data) ? measureClassBatchNormStats(tapped, data) : undefined;
}
