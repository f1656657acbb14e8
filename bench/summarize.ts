/**
 * Summarises bench/results/<scenario>/seed-<n>/report.json files into a mean ± std table (markdown), for
 * docs/benchmarks.md:  npx tsx bench/summarize.ts digits-dir0.5 breast-cancer-4-hospitals
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../simulations/run.js';

const RESULTS = new URL('./results/', import.meta.url).pathname;

function stats(xs: number[]): string {
  if (!xs.length) return 'n/a';
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${(mean * 100).toFixed(2)} ± ${(std * 100).toFixed(2)}`;
}

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
  console.log('| distilled student | teacher ensemble | student / ensemble | local teachers (mean) | one-shot FedAvg | multi-round FedAvg | centralized |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  console.log(`| ${col((r) => r.studentAcc)} | ${col((r) => r.ensembleAcc)} | ${stats(reports.map((r) => r.studentAcc / r.ensembleAcc)).replace(/(\d+\.\d+)/g, (m) => (Number(m) / 100).toFixed(3))} | ${col((r) => r.baselines.localMean)} | ${col((r) => r.baselines.fedavgOneShot)} | ${col((r) => r.baselines.fedavgMultiRound)} | ${col((r) => r.baselines.centralized)} |`);
  console.log(`\nPer seed: ${reports.map((r) => `seed ${r.seed}: student ${(r.studentAcc * 100).toFixed(2)}%, ensemble ${(r.ensembleAcc * 100).toFixed(2)}%, one-shot FedAvg ${r.baselines.fedavgOneShot === null ? 'n/a' : (r.baselines.fedavgOneShot * 100).toFixed(2) + '%'}, ${r.wallSeconds.toFixed(0)} s`).join('; ')}.`);
  console.log(`Traffic per device: ${mib((r) => r.bytes.perDeviceDown)} MiB down, ${mib((r) => r.bytes.perDeviceUp)} MiB up (float32 payload); ${reports[0].queries} queries per run.`);
}
