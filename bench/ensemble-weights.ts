/**
 * bench:ensemble-weights — how much could re-weighting the devices' votes add? Co-Boosting (ICLR 2024) learns
 * one weight per client on synthetic hard samples. This bench measures the most any such weighting could give:
 * the class-weighted ensemble's test accuracy with per-device weights fitted *on the test set itself*
 * (coordinate search over multiplicative steps), and with the class shares raised to a power β (w_dc ∝ n_dc^β;
 * 1 is the engine's class-weighted vote). An oracle: nothing a coordinator could learn does better.
 *
 *   npm run bench:ensemble-weights -- --scenario simulations/scenarios/fmnist-cnn-dir0.5.json --seed 2
 *
 * Teachers come from the cache (trained first if missing). Writes bench/results/ensemble-weights/<scenario file name>-seed-<n>.json.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { predictLogits } from '../shared/train/batches.js';
import { logSoftmaxRows } from '../shared/math/softmax.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { checkFlags } from './args.js';
import { scenarioTeachers } from './scenario-teachers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FLAGS = ['scenario', 'seed'];
const BETAS = [0, 0.5, 0.75, 1, 1.5, 2, 3];
const STEPS = [0.5, 0.7, 0.85, 1.2, 1.4, 2];

/** w_dc ∝ alpha_d · n_dc^β, normalised over devices per class (1/D each for a class no device holds). */
function voteWeights(histograms: number[][], beta: number, alpha: number[]): number[][] {
  const C = histograms[0].length;
  const w = histograms.map((h, d) => h.map((n) => (n > 0 ? alpha[d] * Math.pow(n, beta) : 0)));
  for (let c = 0; c < C; c++) {
    const total = w.reduce((a, row) => a + row[c], 0);
    w.forEach((row) => (row[c] = total > 0 ? row[c] / total : 1 / w.length));
  }
  return w;
}

/** Test accuracy of the vote argmax_c Σ_d w_dc log p_dc. */
function voteAccuracy(logProbs: Float32Array[], w: number[][], y: Int32Array, C: number): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) {
    let best = -Infinity;
    let arg = 0;
    for (let c = 0; c < C; c++) {
      let v = 0;
      for (let d = 0; d < logProbs.length; d++) v += w[d][c] * logProbs[d][i * C + c];
      if (v > best) [best, arg] = [v, c];
    }
    if (arg === y[i]) right++;
  }
  return right / y.length;
}

async function main(): Promise<void> {
  checkFlags(FLAGS);
  const { scenarioFile, s, seed, train, test, parts, models } = await scenarioTeachers();
  const C = train.numClasses;
  const histograms = parts.map((p) => p.histogram);
  const logProbs = models.map((m) => logSoftmaxRows(predictLogits(m, test), C, 1));
  const ones = models.map(() => 1);
  const byBeta = Object.fromEntries(BETAS.map((b) => [b, voteAccuracy(logProbs, voteWeights(histograms, b, ones), test.y, C)]));
  for (const b of BETAS) console.log(`class shares ^ ${b}: ${(byBeta[b] * 100).toFixed(2)}%`);
  let alpha = [...ones];
  let best = byBeta[1];
  for (let pass = 0; pass < 3; pass++) {
    for (let d = 0; d < alpha.length; d++) {
      for (const f of STEPS) {
        const trial = alpha.map((a, k) => (k === d ? a * f : a));
        const acc = voteAccuracy(logProbs, voteWeights(histograms, 1, trial), test.y, C);
        if (acc > best) [best, alpha] = [acc, trial];
      }
    }
  }
  console.log(`per-device weights fitted on the test set: ${alpha.map((a) => a.toFixed(2)).join(' / ')} → ${(best * 100).toFixed(2)}% (class-weighted: ${(byBeta[1] * 100).toFixed(2)}%)`);
  const out = join(ROOT, 'bench', 'results', 'ensemble-weights', `${basename(scenarioFile, '.json')}-seed-${seed}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, JSON.stringify({ scenario: s.name, seed, classWeighted: byBeta[1], byBeta, oracleDeviceWeights: alpha, oracleAccuracy: best }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((e: Error) => {
  console.error(`bench:ensemble-weights: ${e.message}`);
  process.exit(1);
});
