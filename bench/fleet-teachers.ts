/**
 * A simulated fleet's teachers as the bench scripts hold them (the devices' models, their label histograms and
 * the sample shape), and their answers: each teacher's logits and the vote the engine combines them into.
 */
import * as tf from '@tensorflow/tfjs';
import { aggregateTargets } from '../shared/distill/aggregation/index.js';

export interface FleetTeachers {
  models: tf.LayersModel[];
  histograms: number[][];
  sampleShape: number[];
}

/** Every teacher's logits on the samples in `x` (rows of the teachers' sample shape), 1,000 at a time. */
export function teacherLogits(teachers: FleetTeachers, x: Float32Array): Float32Array[] {
  const features = teachers.sampleShape.reduce((a, b) => a * b, 1);
  const n = x.length / features;
  const C = teachers.histograms[0].length;
  const logits = teachers.models.map(() => new Float32Array(n * C));
  for (let i = 0; i < n; i += 1000) {
    const rows = Math.min(1000, n - i);
    const batch = tf.tensor(x.subarray(i * features, (i + rows) * features), [rows, ...teachers.sampleShape]);
    teachers.models.forEach((m, d) => logits[d].set(tf.tidy(() => (m.predict(batch) as tf.Tensor).dataSync()), i * C));
    batch.dispose();
  }
  return logits;
}

/** The teachers' votes on `x`, combined by `aggregation` at τ (voting at `voteTau` when given, as the engine can). */
export function teacherVote(teachers: FleetTeachers, x: Float32Array, aggregation: string, tau: number, voteTau?: number): Float32Array {
  return aggregateTargets(aggregation, { logits: teacherLogits(teachers, x), numClasses: teachers.histograms[0].length, tau, histograms: teachers.histograms }, voteTau);
}
