/**
 * bench:labels — how the ensemble labels a run's synthetic samples. For a `distillery distill` output folder:
 *   - the share of each class among the replay buffer's top labels, and how sure those labels are;
 *   - the same for the ensemble on the real training images (which Distillery never has), for comparison;
 *   - for 100 fresh samples per class from the checkpointed generator (no jitter): which class the ensemble
 *     ranks first, voting at the run's τ and at 1, against the class the generator was asked for.
 *
 *   npm run bench:labels -- --run <distill output folder> [--scenario <file>]
 *
 * Teachers come from the simulation cache (trained first if missing). Writes
 * bench/results/synthetic-labels/<scenario>-seed-<n>-round-<r>.json.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { partitionDataset } from '../shared/data/partition.js';
import { aggregateTargets } from '../shared/distill/aggregation/index.js';
import { argmaxRows } from '../shared/metrics/index.js';
import { predictLogits } from '../shared/train/batches.js';
import { seededRandom } from '../shared/random.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { prepareTeachers } from '../simulations/teachers.js';
import { readCheckpointContents } from '../coordinator/engine/checkpoint.js';
import { generatorFor } from '../coordinator/engine/generator.js';
import { checkFlags } from './args.js';
import { studiedRun } from './run-folder.js';

const ROOT = new URL('..', import.meta.url).pathname;
const PER_CLASS = 100;

/** Percent of rows whose largest entry is each class, and the mean largest probability at temperature 1. */
function labelShares(probs: Float32Array, C: number, tau: number): { share: number[]; meanTop1: number } {
  const top = argmaxRows(probs, C);
  const share = new Array<number>(C).fill(0);
  top.forEach((c) => share[c]++);
  let sure = 0;
  for (let i = 0; i < top.length; i++) {
    // p at τ = 1 is p(τ)^τ renormalised.
    const row = Array.from(probs.subarray(i * C, (i + 1) * C), (p) => Math.pow(Math.max(p, 1e-30), tau));
    sure += Math.max(...row) / row.reduce((a, b) => a + b, 0);
  }
  return { share: share.map((s) => +((100 * s) / top.length).toFixed(1)), meanTop1: +(sure / top.length).toFixed(3) };
}

async function main(): Promise<void> {
  checkFlags(['run', 'scenario']);
  const { run, scenario, report } = studiedRun<{ scenario: string }>();
  const scenarioName = report?.scenario ?? scenario.name;
  const ckpt = readCheckpointContents(join(run, 'checkpoint'));
  if (!ckpt.setup) throw new Error(`${run}/checkpoint predates recorded setups`);
  const { config, seed } = ckpt.setup;
  await initBackend(() => {});
  const { train } = loadDataset(scenario.dataset, { limit: scenario.limit, splitSeed: seed });
  const parts = partitionDataset(train, { ...scenario.partition, seed });
  const { models } = await prepareTeachers(scenario, seed, train, parts, console.log, 2);
  const C = train.numClasses;
  const histograms = parts.map((p) => p.histogram);
  const vote = (logits: Float32Array[], tau: number) => aggregateTargets(config.aggregation, { logits, numClasses: C, tau, histograms, trim: config.trim });

  const buffer = labelShares(ckpt.replay.targets, C, config.tau);
  const real = labelShares(vote(models.map((m) => predictLogits(m, train)), config.tau), C, config.tau);

  const G = generatorFor(config, train.sampleShape, C, seed);
  G.setWeights(ckpt.generator.map((a) => tf.tensor(a.values, a.shape)));
  const rng = seededRandom(seed * 31 + 7);
  const n = PER_CLASS * C;
  const asked = Int32Array.from({ length: n }, (_, i) => i % C);
  const logits = tf.tidy(() => {
    const z = tf.tensor2d(Float32Array.from({ length: n * config.zDim }, () => rng.normal()), [n, config.zDim]);
    // Training mode, as the engine draws its query batches (the generator's BN uses the batch's statistics).
    const x = G.apply([z, tf.oneHot(tf.tensor1d(asked, 'int32'), C)], { training: true }) as tf.Tensor;
    return models.map((m) => (m.predict(x) as tf.Tensor).dataSync() as Float32Array);
  });
  const confusion = (tau: number) => {
    const rows = Array.from({ length: C }, () => new Array<number>(C).fill(0));
    argmaxRows(vote(logits, tau), C).forEach((top, i) => rows[asked[i]][top]++);
    return rows;
  };
  const generated = { [`tau${config.tau}`]: confusion(config.tau), tau1: confusion(1) };

  console.log(`${scenarioName} seed ${seed}, round ${ckpt.round}: top-label share per class (%)`);
  console.log(`  replay buffer (${ckpt.replay.size}): ${buffer.share.join(' ')}  mean top-1 probability ${buffer.meanTop1}`);
  console.log(`  real training images:    ${real.share.join(' ')}  mean top-1 probability ${real.meanTop1}`);
  for (const [name, rows] of Object.entries(generated)) {
    console.log(`generated, asked class → ensemble's top class at ${name} (of ${PER_CLASS}):`);
    rows.forEach((r, c) => console.log(`  ${c}: ${r.map((v) => String(v).padStart(3)).join(' ')}`));
  }
  const out = join(ROOT, 'bench', 'results', 'synthetic-labels', `${scenarioName}-seed-${seed}-round-${ckpt.round}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileAtomic(out, JSON.stringify({ run, scenario: scenarioName, seed, round: ckpt.round, aggregation: config.aggregation, tau: config.tau, voteTau: config.voteTau ?? config.tau, replay: buffer, realTrain: real, generated }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((e: Error) => {
  console.error(`bench:labels: ${e.message}`);
  process.exit(1);
});
