/**
 * bench:ceiling — what a perfect transfer set would give. A fresh student is distilled from the teacher
 * ensemble (the scenario's aggregation and temperature) on the real training images, which Distillery never
 * has: the gap between this and the distilled student is the synthetic data's, not the student's or the
 * ensemble's. Also prints per-class test accuracy of the ensemble, each teacher and, with --student, a
 * distilled student, to show which classes the synthetic data fails.
 *
 *   npm run bench:ceiling -- --scenario simulations/scenarios/fmnist-cnn-dir0.5.json --seed 2
 *                            [--steps 1500] [--every 500] [--student out/fmnist-cnn-dir0.5/seed-2/student]
 *
 * Teachers come from the cache (trained first if missing). Writes bench/results/transfer-ceiling/<scenario file name>-seed-<n>.json.
 */
import * as tf from '@tensorflow/tfjs';
import { basename, join } from 'node:path';
import { accuracy, argmaxRows, perClassAccuracy } from '../shared/metrics/index.js';
import { buildModel } from '../shared/models/build.js';
import { loadModel } from '../shared/models/store.js';
import { accuracyOf } from '../shared/train/fit.js';
import { batchTensor, predictLogits } from '../shared/train/batches.js';
import { getAggregator } from '../shared/distill/aggregation/index.js';
import { seededRandom } from '../shared/random.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { studentStep } from '../coordinator/engine/steps.js';
import { arg, checkFlags, positiveInt } from './args.js';
import { scenarioTeachers } from './scenario-teachers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FLAGS = ['scenario', 'seed', 'steps', 'every', 'student'];

/** Test accuracy per class, in percent, of row-major scores [n, classes]. */
function perClass(scores: Float32Array, y: Int32Array, classes: number): number[] {
  return perClassAccuracy(argmaxRows(scores, classes), y, classes).map((a) => +(100 * a).toFixed(1));
}

async function main(): Promise<void> {
  checkFlags(FLAGS);
  const steps = positiveInt('steps', 1500);
  const every = positiveInt('every', 500);
  const { scenarioFile, s, seed, train, test, parts, models } = await scenarioTeachers();
  const histograms = parts.map((p) => p.histogram);
  const C = train.numClasses;
  const aggregate = getAggregator(s.distill.aggregation);
  const ensemble = aggregate({ logits: models.map((m) => predictLogits(m, test)), numClasses: C, tau: 1, histograms });
  const classes: Record<string, number[]> = { ensemble: perClass(ensemble, test.y, C) };
  models.forEach((m, d) => (classes[`teacher ${d}`] = perClass(predictLogits(m, test), test.y, C)));
  const studentDir = arg('student');
  if (studentDir) classes.student = perClass(predictLogits(await loadModel(studentDir), test), test.y, C);
  for (const [who, acc] of Object.entries(classes)) console.log(`${who.padEnd(10)} per class: ${acc.map((a) => a.toFixed(1).padStart(5)).join(' ')}`);

  // Soft labels at the run's temperature, as the engine's replay buffer stores them.
  const targets = aggregate({ logits: models.map((m) => predictLogits(m, train)), numClasses: C, tau: s.distill.tau, histograms });
  const student = buildModel(s.studentSpec, { inputShape: train.sampleShape, numClasses: C, seed });
  const optimizer = tf.train.adam(s.distill.studentLr);
  const rng = seededRandom(seed);
  const B = s.distill.studentBatchSize;
  const curve: { step: number; acc: number }[] = [];
  const t0 = performance.now();
  for (let k = 1; k <= steps; k++) {
    const rows = Int32Array.from({ length: B }, () => rng.int(train.y.length));
    const t = new Float32Array(B * C);
    rows.forEach((r, i) => t.set(targets.subarray(r * C, (r + 1) * C), i * C));
    const [x, y] = [batchTensor(train, rows), tf.tensor2d(t, [B, C])];
    studentStep(student, optimizer, x, y, s.distill.tau);
    tf.dispose([x, y]);
    if (k % every === 0 || k === steps) {
      curve.push({ step: k, acc: accuracyOf(student, test) });
      console.log(`step ${k}/${steps}: student distilled on real images ${(curve.at(-1)!.acc * 100).toFixed(2)}% (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  }
  const out = join(ROOT, 'bench', 'results', 'transfer-ceiling', `${basename(scenarioFile, '.json')}-seed-${seed}.json`);
  writeFileAtomic(out, JSON.stringify({ scenario: s.name, scenarioFile, seed, teacherTraining: s.teacherTraining, ensembleAcc: accuracy(argmaxRows(ensemble, C), test.y), perClass: classes, steps, batchSize: B, studentLr: s.distill.studentLr, tau: s.distill.tau, curve }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(`bench:ceiling: ${(e as Error).message}`);
  process.exit(1);
});
