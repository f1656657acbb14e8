/**
 * bench:round-average — which average of a run's round-by-round students publishes best? Reads the students a
 * `distillery distill --keep-students` run saved after every round and scores, on the real test set, the
 * weight averages the engine can publish once a round (`studentEma` with `studentEmaEvery: 'round'`) at several
 * decays, running means from a given round on (SWA), and the output ensemble of the same rounds' students (their
 * averaged probabilities, which no single student publishes: it shows whether the rounds' students err apart,
 * so that averaging could gain, or alike), beside each round's own student. Nothing is trained
 * and no device is asked anything: averaging does not change the training, so each number here is what a run
 * with that setting would publish at that round.
 *
 *   npm run bench:round-average -- --run <distill output folder> [--scenario <file>] [--decays 0.5,0.8,0.9]
 *                                  [--from 11,26] [--at 20,30,40,50] [--out <file.json>]
 *
 * The averages go through the engine's own WeightAverage, with the decay the engine uses at round r:
 * min(d, (r − 1) / r) for `studentEma` d, and (r − s) / (r − s + 1) for the running mean from round s.
 * Writes bench/results/round-average/<scenario>-seed-<n>.json, or --out.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { loadModel } from '../shared/models/store.js';
import { accuracyOf } from '../shared/train/fit.js';
import { predictLogits } from '../shared/train/batches.js';
import { softmaxRows } from '../shared/math/softmax.js';
import { accuracy, argmaxRows } from '../shared/metrics/index.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { roundDecay, WeightAverage } from '../coordinator/engine/averaging.js';
import { readCheckpointSetup } from '../coordinator/engine/checkpoint.js';
import { keptStudents, studiedRun } from './run-folder.js';
import { arg, checkFlags, integerList } from './args.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** One way of averaging: the decay its update takes at round r, or undefined where it does not take round r. */
interface Averaging {
  name: string;
  decayAt: (round: number) => number | undefined;
}

function decayList(): number[] {
  const raw = arg('decays') ?? '0.5,0.7,0.8,0.9,0.95';
  return raw.split(',').map((part) => {
    const d = Number(part);
    if (part.trim() === '' || !(d > 0 && d < 1)) throw new Error(`--decays must be a comma-separated list of numbers in (0, 1), got ${JSON.stringify(part)} in ${raw}`);
    return d;
  });
}

function averagings(decays: number[], starts: number[]): Averaging[] {
  return [
    ...decays.map((d) => ({ name: `ema ${d}`, decayAt: (r: number) => roundDecay(d, r) })),
    ...starts.map((s) => ({ name: `mean from round ${s}`, decayAt: (r: number) => (r < s ? undefined : (r - s) / (r - s + 1)) })),
  ];
}

async function main(): Promise<void> {
  checkFlags(['run', 'scenario', 'decays', 'from', 'at', 'out']);
  const { run, scenario } = studiedRun();
  const seed = readCheckpointSetup(join(run, 'checkpoint'))?.seed;
  if (seed === undefined) throw new Error(`${run}/checkpoint records no setup, so the run's seed is unknown`);
  const { rounds, folder } = keptStudents(run);
  const at = integerList('at', [10, 20, 30, 40, 50].filter((r) => r <= rounds), 1).filter((r) => r <= rounds);
  const decays = decayList();
  const starts = integerList('from', [11, 21, 26, 31, 41].filter((s) => s <= rounds), 1);
  const out = arg('out') ?? join(ROOT, 'bench', 'results', 'round-average', `${scenario.name}-seed-${seed}.json`);

  await initBackend(() => {}, { threads: 'auto' });
  const { test } = loadDataset(scenario.dataset, { limit: scenario.limit, splitSeed: seed });
  const model = await loadModel(folder(1));
  const schemes = averagings(decays, starts);
  // Every update below passes its own decay, so the averages' own (0.5) is never used.
  const averages = schemes.map(() => new WeightAverage(model, 0.5));
  const results: Record<string, Record<number, number>> = Object.fromEntries(schemes.map((s) => [s.name, {}]));
  const own: Record<number, number> = {};
  // Output ensembles from each start round: the summed probabilities of the students of rounds s..r.
  const sums = starts.map(() => new Float64Array(test.y.length * test.numClasses));
  const ensembles: Record<string, Record<number, number>> = Object.fromEntries(starts.map((s) => [`ensemble from round ${s}`, {}]));
  const t0 = performance.now();
  for (let r = 1; r <= rounds; r++) {
    const trained = await loadModel(folder(r));
    model.setWeights(trained.getWeights());
    trained.dispose();
    const scored = at.includes(r);
    const ensembling = starts.some((s) => s <= r);
    // One pass over the test set serves the round's own score and the output ensembles.
    const logits = scored || ensembling ? predictLogits(model, test) : undefined;
    if (logits && ensembling) {
      const probs = softmaxRows(logits, test.numClasses, 1);
      starts.forEach((s, i) => {
        if (s > r) return;
        probs.forEach((v, k) => (sums[i][k] += v));
        if (scored) ensembles[`ensemble from round ${s}`][r] = accuracy(argmaxRows(sums[i], test.numClasses), test.y);
      });
    }
    schemes.forEach((s, i) => {
      const decay = s.decayAt(r);
      if (decay !== undefined) averages[i].update(decay);
    });
    if (!scored || !logits) continue;
    own[r] = accuracy(argmaxRows(logits, test.numClasses), test.y);
    for (const [i, s] of schemes.entries()) {
      if (s.decayAt(r) === undefined) continue;
      results[s.name][r] = await averages[i].withAverage(() => accuracyOf(model, test));
    }
    const line = schemes.filter((s) => results[s.name][r] !== undefined).map((s) => `${s.name} ${(results[s.name][r] * 100).toFixed(2)}%`);
    for (const [name, byRound] of Object.entries(ensembles)) if (byRound[r] !== undefined) line.push(`${name} ${(byRound[r] * 100).toFixed(2)}%`);
    console.log(`round ${r}: own ${(own[r] * 100).toFixed(2)}%  ${line.join('  ')}  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, JSON.stringify({ run, scenario: scenario.name, seed, rounds, at, own, averages: results, ensembles, command: `npm run bench:round-average -- ${process.argv.slice(2).join(' ')}` }, null, 2) + '\n');
  console.log(`wrote ${out}`);
  averages.forEach((a) => a.dispose());
  model.dispose();
  tf.disposeVariables();
}

main().catch((e: Error) => {
  console.error(`bench:round-average: ${e.message}`);
  process.exit(1);
});
