/**
 * bench:round-select — can a run pick its best round without real data? On the plateau the published student
 * swings by a point or two between rounds. This reads the students a `distillery distill --keep-students` run
 * saved after every round and scores each on the real test set and on proxies the coordinator could compute
 * with no data, to see whether any of them tells the good rounds from the bad:
 * - agreement and KL with the teacher ensemble on held-out procedural images (drawn from a seed the pool never
 *   uses, in the pool's style, labelled by the cached teachers as the devices would label them);
 * - the same on the generator samples of the next `--future` rounds, which that round's student never trained
 *   on (read from the final checkpoint's ring buffer, so only for rounds whose successors are still in it).
 * It reports each proxy's Spearman correlation with test accuracy over the late rounds and the round it would
 * have published. Nothing is trained and no device is asked anything.
 *
 *   npm run bench:round-select -- --run <distill output folder> --scenario <file> [--heldout 6000]
 *                                 [--future 3] [--from 16] [--out <file.json>]
 *
 * The seed, and so the teachers, are the run's own (its checkpoint's setup).
 *
 * Writes bench/results/round-select/<scenario>-seed-<n>.json, or --out.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadModel } from '../shared/models/store.js';
import { accuracy, argmaxRows, perClassAccuracy } from '../shared/metrics/index.js';
import { predictLogits } from '../shared/train/batches.js';
import { getAggregator } from '../shared/distill/aggregation/index.js';
import { proceduralBatch } from '../shared/distill/procedural.js';
import { seededRandom } from '../shared/random.js';
import { softmaxRows } from '../shared/math/softmax.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import type { Dataset } from '../shared/data/dataset.js';
import { readCheckpointContents } from '../coordinator/engine/checkpoint.js';
import { arg, checkFlags, positiveInt } from './args.js';
import { scenarioTeachers } from './scenario-teachers.js';
import { keptStudents } from './run-folder.js';
import { meanKl, spearman } from './stats.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** Mean over the vote's classes of the share of that class's rows the student ranks the same. */
function balancedAgreement(vote: Int32Array, pred: Int32Array, C: number): number {
  const present = perClassAccuracy(pred, vote, C).filter((a) => !Number.isNaN(a));
  return present.reduce((a, b) => a + b, 0) / present.length;
}

async function main(): Promise<void> {
  checkFlags(['run', 'scenario', 'heldout', 'from', 'future', 'out']);
  const run = arg('run');
  if (!run) throw new Error('--run <distill output folder> is required');
  const heldout = positiveInt('heldout', 6000);
  const from = positiveInt('from', 16);
  const future = positiveInt('future', 3);
  const { rounds, folder } = keptStudents(run);
  const checkpoint = readCheckpointContents(join(run, 'checkpoint'));
  if (!checkpoint.setup) throw new Error(`${run}/checkpoint records no setup, so the run's seed is unknown`);
  // Generator samples the student of round r never trained on: those of rounds r + 1 .. r + future, still in
  // the checkpoint's ring buffer, which grows by the run's generatorSteps × batchSize rows a round. Its last rows
  // are the checkpoint's round's, which a run stopped after saving a student may leave one behind the students.
  const { config } = checkpoint.setup;
  const perRound = config.generatorSteps * config.batchSize;
  const bufferRound = checkpoint.round;
  if (bufferRound > rounds) throw new Error(`${run}/checkpoint is of round ${bufferRound} but students are kept only up to round ${rounds}`);
  if (checkpoint.replay.next !== (bufferRound * perRound) % config.replayCapacity) {
    throw new Error(`${run}/checkpoint's buffer did not grow by generatorSteps × batchSize (${perRound}) rows a round, so the rounds of its rows cannot be told`);
  }
  const { s, seed, test, parts, models } = await scenarioTeachers(checkpoint.setup.seed);
  const C = test.numClasses;
  const [h, w] = test.sampleShape;
  const style = config.procedural;
  const x = proceduralBatch(seededRandom(0x5e1ec7 + seed), heldout, h, w, style);
  const images: Dataset = { name: 'held-out procedural', sampleShape: test.sampleShape, x, y: new Int32Array(heldout), numClasses: C };
  const aggregate = getAggregator(config.aggregation);
  const histograms = parts.map((p) => p.histogram);
  const teacherLogits = models.map((m) => predictLogits(m, images));
  const target = aggregate({ logits: teacherLogits, numClasses: C, tau: config.tau, histograms });
  const vote = argmaxRows(target, C);

  const replay = checkpoint.replay;
  const features = test.sampleShape.reduce((a, b) => a * b, 1);
  const rowsOf = (k: number): number[] => {
    const pushedAfter = bufferRound - k; // rounds pushed after round k
    const end = replay.next - pushedAfter * perRound;
    if (pushedAfter * perRound + perRound > replay.size) return [];
    return Array.from({ length: perRound }, (_, i) => (((end - perRound + i) % replay.size) + replay.size) % replay.size);
  };
  const futureSet = (r: number): { images: Dataset; targets: Float32Array } | undefined => {
    const idx: number[] = [];
    if (r + 1 > bufferRound || rowsOf(r + 1).length === 0) return undefined;
    for (let k = r + 1; k <= Math.min(r + future, bufferRound); k++) idx.push(...rowsOf(k));
    const xs = new Float32Array(idx.length * features);
    const ts = new Float32Array(idx.length * C);
    idx.forEach((row, i) => { xs.set(replay.x.subarray(row * features, (row + 1) * features), i * features); ts.set(replay.targets.subarray(row * C, (row + 1) * C), i * C); });
    return { images: { name: 'future buffer', sampleShape: test.sampleShape, x: xs, y: new Int32Array(idx.length), numClasses: C }, targets: ts };
  };

  const rows: { round: number; test: number; agree: number; balanced: number; kl: number; futureAgree?: number; futureKl?: number }[] = [];
  const t0 = performance.now();
  for (let r = 1; r <= rounds; r++) {
    const student = await loadModel(folder(r));
    const testAcc = accuracy(argmaxRows(predictLogits(student, test), C), test.y);
    const logits = predictLogits(student, images);
    const pred = argmaxRows(logits, C);
    const row: (typeof rows)[0] = { round: r, test: testAcc, agree: accuracy(pred, vote), balanced: balancedAgreement(vote, pred, C), kl: meanKl(target, softmaxRows(logits, C, config.tau), C) };
    const ahead = futureSet(r);
    if (ahead) {
      const fl = predictLogits(student, ahead.images);
      row.futureAgree = accuracy(argmaxRows(fl, C), argmaxRows(ahead.targets, C));
      row.futureKl = meanKl(ahead.targets, softmaxRows(fl, C, config.tau), C);
    }
    rows.push(row);
    student.dispose();
    console.log(`round ${r}: test ${(100 * row.test).toFixed(2)}%  agree ${(100 * row.agree).toFixed(2)}%  balanced ${(100 * row.balanced).toFixed(2)}%  kl ${row.kl.toFixed(4)}${row.futureAgree !== undefined ? `  future agree ${(100 * row.futureAgree).toFixed(2)}% kl ${row.futureKl!.toFixed(4)}` : ''}  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const late = rows.filter((r) => r.round >= from && r.futureAgree !== undefined);
  type Row = (typeof rows)[0];
  const proxies = { agree: (r: Row) => r.agree, balanced: (r: Row) => r.balanced, kl: (r: Row) => -r.kl, futureAgree: (r: Row) => r.futureAgree!, futureKl: (r: Row) => -r.futureKl! };
  const summary: Record<string, { spearman: number; picked: number; pickedTest: number }> = {};
  for (const [name, score] of Object.entries(proxies)) {
    const best = late.reduce((a, b) => (score(b) > score(a) ? b : a));
    summary[name] = { spearman: spearman(late.map(score), late.map((r) => r.test)), picked: best.round, pickedTest: best.test };
    console.log(`${name}: Spearman with test accuracy over rounds ${late[0].round}–${late.at(-1)!.round} ${summary[name].spearman.toFixed(3)}; best round by it ${best.round} (test ${(100 * best.test).toFixed(2)}%)`);
  }
  const last = rows.at(-1)!;
  const meanLate = late.reduce((a, r) => a + r.test, 0) / late.length;
  console.log(`last round ${last.round}: ${(100 * last.test).toFixed(2)}%; mean of rounds ${from}–${rounds} ${(100 * meanLate).toFixed(2)}%; best ${(100 * Math.max(...late.map((r) => r.test))).toFixed(2)}%`);
  const out = arg('out') ?? join(ROOT, 'bench', 'results', 'round-select', `${s.name}-seed-${seed}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, JSON.stringify({ run, scenario: s.name, seed, heldout, from, rows, summary, command: `npm run bench:round-select -- ${process.argv.slice(2).join(' ')}` }, null, 2) + '\n');
  console.log(`wrote ${out}`);
  tf.disposeVariables();
}

main().catch((e: Error) => {
  console.error(`bench:round-select: ${e.message}`);
  process.exit(1);
});
