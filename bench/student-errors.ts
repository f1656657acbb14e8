/**
 * bench:student-errors — where a distilled student parts from its ensemble on the real test set, and whether
 * the transfer set's label skew explains it.
 *
 *   npm run bench:student-errors -- --run <distill output folder> [--round 50] [--scenario <file>] [--out <file.json>]
 *
 * For the run's student (students/round-N with --round, else the folder's published student) and the cached
 * teachers of the run's seed, it reports the ensemble's and the student's accuracy, their agreement, both per
 * class, and the test images the ensemble gets right and the student wrong, counted by (true class → the
 * student's class). Then it asks whether a label-shift correction would have helped: the student was trained
 * on a transfer set whose mean soft label (buffer and procedural pool, mixed as the run mixes them) is far from
 * the devices' pooled label histogram, so it re-scores the student with logits − α (log p_transfer − log p_devices)
 * (logit adjustment, Menon et al. 2021; data-free: the coordinator knows both), for several α.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadModel } from '../shared/models/store.js';
import { accuracy, argmaxRows, confusionMatrix, perClassAccuracy } from '../shared/metrics/index.js';
import { predictLogits } from '../shared/train/batches.js';
import { getAggregator } from '../shared/distill/aggregation/index.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { readCheckpointContents } from '../coordinator/engine/checkpoint.js';
import { meanDrawnTarget } from '../coordinator/engine/replay.js';
import { arg, checkFlags, positiveInt } from './args.js';
import { scenarioTeachers } from './scenario-teachers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const ALPHAS = [0, 0.25, 0.5, 1, 2];

async function main(): Promise<void> {
  checkFlags(['run', 'round', 'scenario', 'out']);
  const run = arg('run');
  if (!run) throw new Error('--run <distill output folder> is required');
  const checkpoint = readCheckpointContents(join(run, 'checkpoint'));
  if (!checkpoint.setup) throw new Error(`${run}/checkpoint records no setup, so the run's seed is unknown`);
  const { config, seed: runSeed } = checkpoint.setup;
  const round = arg('round') ? positiveInt('round', 1) : undefined;
  const studentDir = round ? join(run, 'students', `round-${round}`) : join(run, 'student');
  const { s, seed, test, parts, models } = await scenarioTeachers(runSeed);
  const C = test.numClasses;
  const histograms = parts.map((p) => p.histogram);
  // The vote at temperature 1: its argmax is the ensemble's answer (ensembleAcc in the reports).
  const vote = argmaxRows(getAggregator(config.aggregation)({ logits: models.map((m) => predictLogits(m, test)), numClasses: C, tau: 1, histograms, trim: config.trim }), C);
  const logits = predictLogits(await loadModel(studentDir), test);
  const student = argmaxRows(logits, C);

  const pairs = new Map<string, number>();
  test.y.forEach((y, i) => {
    if (vote[i] === y && student[i] !== y) pairs.set(`${y}->${student[i]}`, (pairs.get(`${y}->${student[i]}`) ?? 0) + 1);
  });
  const studentOnly = [...pairs].sort((a, b) => b[1] - a[1]).map(([pair, count]) => {
    const [from, to] = pair.split('->').map(Number);
    return { trueClass: from, studentClass: to, names: `${test.classNames?.[from] ?? from} → ${test.classNames?.[to] ?? to}`, count };
  });

  // The transfer set's label marginal, as the student steps drew it: the buffer uniformly (or balanced), the
  // pool with the run's balance, mixed at the pool's share.
  const buffer = meanDrawnTarget(checkpoint.replay.targets, C, config.studentBalance);
  const pool = checkpoint.procedural;
  const share = pool ? config.procedural.share : 0;
  const poolMean = pool ? meanDrawnTarget(pool.targets, C, config.procedural.balance) : new Float64Array(C);
  const transfer = buffer.map((v, c) => (1 - share) * v + share * poolMean[c]);
  const devices = new Float64Array(C);
  histograms.forEach((h) => h.forEach((v, c) => (devices[c] += v)));
  const total = devices.reduce((a, b) => a + b, 0);
  const shift = Array.from(transfer, (p, c) => Math.log(p) - Math.log(devices[c] / total));
  const adjusted = ALPHAS.map((alpha) => {
    const moved = logits.map((v, i) => v - alpha * shift[i % C]);
    return { alpha, studentAcc: accuracy(argmaxRows(moved, C), test.y) };
  });

  const percent = (v: number) => +(100 * v).toFixed(2);
  const result = {
    scenario: s.name,
    run,
    seed,
    student: studentDir,
    ensembleAcc: accuracy(vote, test.y),
    studentAcc: accuracy(student, test.y),
    agreement: accuracy(student, vote),
    perClass: { ensemble: perClassAccuracy(vote, test.y, C).map(percent), student: perClassAccuracy(student, test.y, C).map(percent) },
    studentOnlyErrors: studentOnly,
    confusion: confusionMatrix(student, test.y, C),
    transferLabels: Array.from(transfer, (v) => +v.toFixed(4)),
    deviceLabels: Array.from(devices, (v) => +(v / total).toFixed(4)),
    logitAdjustment: adjusted,
  };
  console.log(`${s.name} seed ${seed}, ${studentDir}: ensemble ${percent(result.ensembleAcc)}%, student ${percent(result.studentAcc)}%, agreement ${percent(result.agreement)}%`);
  console.log(`per class (ensemble / student): ${result.perClass.ensemble.map((e, c) => `${test.classNames?.[c] ?? c} ${e}/${result.perClass.student[c]}`).join(', ')}`);
  console.log(`right by the ensemble, wrong by the student: ${studentOnly.slice(0, 8).map((p) => `${p.names} ${p.count}`).join(', ')}`);
  console.log(`logit adjustment by the transfer set's labels: ${adjusted.map((a) => `α ${a.alpha}: ${percent(a.studentAcc)}%`).join(', ')}`);
  const out = arg('out') ?? join(ROOT, 'bench', 'results', 'student-errors', `${s.name}-${basename(run)}-seed-${seed}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${out}`);
  tf.disposeVariables();
}

main().catch((e: unknown) => {
  console.error(`bench:student-errors: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
