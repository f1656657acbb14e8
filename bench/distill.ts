/**
 * bench:distill — what each design choice of the distillation engine costs in accuracy, traffic and time,
 * and the Fashion-MNIST scenario runs.
 *
 *   npm run bench:distill -- --part ablations      # digits-dir0.5 variants, ~15 min on 2 cores
 *   npm run bench:distill -- --part ablations --only default,black-box   # re-measure just these
 *   npm run bench:distill -- --part scenario --scenario fmnist-cnn-dir0.5 [--seeds 1,2,3]
 *   npm run bench:distill -- --part seeds          # bytes a seed saves over an input batch (counts, seconds)
 *
 * Ablations write bench/results/distill-ablations.json; scenario runs copy each report.json to
 * bench/results/<scenario>/seed-<n>/report.json. Runs resume from their checkpoints when restarted.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, parseScenario, type Scenario } from '../simulations/scenario.js';
import { runScenario, type Report } from '../simulations/run.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { arg, integerList } from './args.js';
import { seedEconomics } from './query-seeds.js';

const ROOT = new URL('..', import.meta.url).pathname;
const RESULTS = join(ROOT, 'bench', 'results');

interface Variant {
  name: string;
  what: string;
  distill?: Record<string, unknown>;
  blackBoxAll?: boolean;
  float16?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'default', what: 'the default recipe' },
  { name: 'noise', what: 'uniform-noise inputs instead of the generator', distill: { synthesis: 'noise' } },
  { name: 'no-replay', what: 'replay buffer of one batch (each batch used once)', distill: { replayCapacity: 128 } },
  { name: 'no-diversity', what: 'no mode-seeking term', distill: { diversity: 0 } },
  { name: 'no-adversarial', what: 'no teacher-student disagreement terms', distill: { device: { ce: 1, bn: 0, adv: 0 }, coordinatorAdv: 0 } },
  { name: 'bn-stats', what: 'DeepInversion BN-statistics term on (weight 1)', distill: { device: { ce: 1, bn: 1, adv: 0.5 } } },
  { name: 'mean-logits', what: 'aggregation: mean of logits', distill: { aggregation: 'mean-logits' } },
  { name: 'mean-probs', what: 'aggregation: mean of probabilities', distill: { aggregation: 'mean-probs' } },
  { name: 'confidence', what: 'aggregation: confidence-weighted', distill: { aggregation: 'confidence' } },
  { name: 'median', what: 'aggregation: coordinate-wise median', distill: { aggregation: 'median' } },
  { name: 'half-queries', what: '5 instead of 10 device queries per round', distill: { generatorSteps: 5 } },
  { name: 'float16-wire', what: 'every tensor rounded through float16 on the port (half the bytes)', float16: true },
  { name: 'black-box', what: 'all devices logits-only; zeroth-order gradients, 8 directions, probes expanded on the device from a seed', blackBoxAll: true },
  { name: 'black-box-unseeded', what: 'as black-box, but the coordinator sends all 1 + 8 probes of every input', blackBoxAll: true, distill: { zerothOrder: { seeded: false } } },
];

async function ablations(): Promise<void> {
  const base = JSON.parse(readFileSync(join(ROOT, 'simulations/scenarios/digits-dir0.5.json'), 'utf8'));
  const rounds = Number(arg('rounds') ?? 10);
  const file = join(RESULTS, 'distill-ablations.json');
  const results: Record<string, unknown> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).variants ?? {} : {};
  // --only a,b re-measures just those variants (even if recorded); otherwise the missing ones are run.
  const only = arg('only')?.split(',');
  for (const name of only ?? []) if (!VARIANTS.some((v) => v.name === name)) throw new Error(`--only: unknown variant ${name}; valid: ${VARIANTS.map((v) => v.name).join(', ')}`);
  for (const v of VARIANTS) {
    if (only ? !only.includes(v.name) : results[v.name]) continue;
    const raw = { ...base, name: `ablation-${v.name}`, distill: { ...base.distill, rounds, ...v.distill } };
    const scenario: Scenario = parseScenario(raw);
    if (v.blackBoxAll) scenario.blackBox = scenario.teacherSpecs.map((_, d) => d);
    const report = await runScenario({ scenario, seed: 1, out: join(ROOT, 'out', 'ablations', v.name), skipBaselines: true, float16: v.float16, workers: 2 });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    results[v.name] = {
      what: v.what,
      studentAcc: report.studentAcc,
      ensembleAcc: report.ensembleAcc,
      bytesPerDeviceDown: mean(report.bytes.perDeviceDown),
      bytesPerDeviceUp: mean(report.bytes.perDeviceUp),
      queries: report.queries,
      distillSeconds: report.phases.distill,
      measured: new Date().toISOString().slice(0, 10),
    };
    console.log(`${v.name.padEnd(16)} student ${(report.studentAcc * 100).toFixed(2)}%  down ${(mean(report.bytes.perDeviceDown) / 1048576).toFixed(2)} MiB  up ${(mean(report.bytes.perDeviceUp) / 1048576).toFixed(2)} MiB  ${report.phases.distill.toFixed(0)} s`);
    writeFileAtomic(file, JSON.stringify({ scenario: 'digits-dir0.5', seed: 1, rounds, variants: results }, null, 2) + '\n');
  }
}

async function scenarioRuns(): Promise<void> {
  const name = arg('scenario');
  if (!name) throw new Error('--scenario <name> is required with --part scenario');
  const scenario = loadScenario(join(ROOT, 'simulations/scenarios', `${name}.json`));
  const seeds = integerList('seeds', scenario.seeds, 0);
  const reports: Report[] = [];
  for (const seed of seeds) {
    const out = join(ROOT, 'out', name, `seed-${seed}`);
    reports.push(await runScenario({ scenario, seed, out, workers: 2 }));
    const dest = join(RESULTS, name, `seed-${seed}`);
    mkdirSync(dest, { recursive: true });
    copyFileSync(join(out, 'report.json'), join(dest, 'report.json'));
    console.log(`${name} seed ${seed}: student ${(reports.at(-1)!.studentAcc * 100).toFixed(2)}%, ensemble ${(reports.at(-1)!.ensembleAcc * 100).toFixed(2)}%`);
  }
}

const part = arg('part') ?? 'ablations';
const parts: Record<string, () => Promise<void>> = { ablations, scenario: scenarioRuns, seeds: () => seedEconomics(ROOT) };
(parts[part] ?? (() => Promise.reject(new Error(`--part must be ${Object.keys(parts).join(', ')}, got ${part}`))))().catch((e) => {
  console.error(`bench:distill failed: ${(e as Error).message}`);
  process.exit(1);
});
