/**
 * Summarises bench/results/<scenario>/seed-<n>/report.json files into a mean ± std table (markdown), for
 * docs/benchmarks.md:  npx tsx bench/summarize.ts digits-dir0.5 breast-cancer-4-hospitals
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../simulations/run.js';
import { bestVote, roundSeconds } from '../simulations/summary.js';
import { meanStd as stats } from './stats.js';

const RESULTS = new URL('./results/', import.meta.url).pathname;


/**
 * Reports written before 1 December 2026 have no averagedTeachers: their fedavgOneShot was the average of the
 * fleet's own (independently initialised) teachers, so it is shown as that, and one-shot FedAvg as n/a.
 */
const legacy = (r: Report) => !('averagedTeachers' in r.baselines);
const oneShot = (r: Report) => (legacy(r) ? null : r.baselines.fedavgOneShot);
const averagedTeachers = (r: Report) => (legacy(r) ? r.baselines.fedavgOneShot : r.baselines.averagedTeachers);
const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);

for (const scenario of process.argv.slice(2)) {
  const dir = join(RESULTS, scenario);
  if (!existsSync(dir)) {
    console.log(`${scenario}: no results in ${dir}`);
    continue;
  }
  const reports: Report[] = readdirSync(dir).filter((d) => d.startsWith('seed-')).sort().map((d) => JSON.parse(readFileSync(join(dir, d, 'report.json'), 'utf8')));
  const col = (f: (r: Report) => number | null | undefined) => stats(reports.map(f).filter((v): v is number => typeof v === 'number'));
  const mib = (f: (r: Report) => number[]) => (reports.flatMap(f).reduce((a, b) => a + b, 0) / reports.flatMap(f).length / 1048576).toFixed(2);
  console.log(`\n### ${scenario} (seeds ${reports.map((r) => r.seed).join(', ')})\n`);
  console.log('| distilled student | teacher ensemble | student / ensemble | local teachers (mean) | one-shot FedAvg | averaged teachers | multi-round FedAvg | centralized |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  console.log(`| ${col((r) => r.studentAcc)} | ${col((r) => r.ensembleAcc)} | ${stats(reports.map((r) => r.studentAcc / r.ensembleAcc), 1, 3)} | ${col((r) => r.baselines.localMean)} | ${col(oneShot)} | ${col(averagedTeachers)} | ${col((r) => r.baselines.fedavgMultiRound)} | ${col((r) => r.baselines.centralized)} |`);
  // Where another strategy's vote of the same teachers beats the run's own on any seed, the ratio to the
  // strongest vote is printed too, so a weaker vote cannot flatter the student.
  if (reports.some((r) => bestVote(r))) {
    const strongest = (r: Report) => bestVote(r)?.acc ?? r.ensembleAcc;
    console.log(`\nAgainst the strongest vote of the same teachers (${reports.map((r) => `seed ${r.seed}: ${bestVote(r)?.strategy ?? 'the run\'s own'} ${pct(strongest(r))}`).join('; ')}): student / it ${stats(reports.map((r) => r.studentAcc / strongest(r)), 1, 3)}.`);
  }
  console.log(`\nPer seed: ${reports.map((r) => `seed ${r.seed}: student ${pct(r.studentAcc)}, ensemble ${pct(r.ensembleAcc)}, one-shot FedAvg ${pct(oneShot(r))}, distillation rounds ${roundSeconds(r).toFixed(0)} s, process wall ${r.wallSeconds.toFixed(0)} s`).join('; ')}.`);
  console.log(`Traffic per device: ${mib((r) => r.bytes.perDeviceDown)} MiB down, ${mib((r) => r.bytes.perDeviceUp)} MiB up (float32 payload); ${reports[0].queries} queries per run.`);
}
