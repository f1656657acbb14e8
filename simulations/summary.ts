/** The readable summary printed at the end of a scenario run. */
import type { Report } from './run.js';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '   n/a' : `${(v * 100).toFixed(2).padStart(6)}%`);
const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;

/** The rounds' own seconds from the per-round history, which survives a resume (wallSeconds is the last process's). */
export const roundSeconds = (r: Pick<Report, 'rounds'>): number => r.rounds.reduce((a, x) => a + x.seconds, 0);

/** The strongest vote of the same teachers, where it beats the run's own strategy (else undefined, as for reports from before ensembleByStrategy). */
export function bestVote(r: Pick<Report, 'ensembleAcc' | 'ensembleByStrategy'>): { strategy: string; acc: number } | undefined {
  const [strategy, acc] = Object.entries(r.ensembleByStrategy ?? {}).reduce((a, b) => (b[1] > a[1] ? b : a), ['', -1]);
  return acc > r.ensembleAcc ? { strategy, acc } : undefined;
}

function strongerVote(r: Report): string {
  const best = bestVote(r);
  return best ? `   (the ${best.strategy} vote of the same teachers: ${pct(best.acc).trim()}; student / it ${(r.studentAcc / best.acc).toFixed(3)})` : '';
}

export function formatReport(r: Report): string {
  const up = r.bytes.perDeviceUp;
  const down = r.bytes.perDeviceDown;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return [
    `\n${r.scenario} (seed ${r.seed}) — ${r.wallSeconds.toFixed(0)} s${r.resumedFromRound === undefined ? '' : ` in this process, which resumed the run at round ${r.resumedFromRound} (every round's own seconds: ${roundSeconds(r).toFixed(0)} s)`}`,
    '',
    `  distilled student            ${pct(r.studentAcc)}   (${r.student.params.toLocaleString()} parameters)`,
    `  teacher ensemble (ceiling)   ${pct(r.ensembleAcc)}${strongerVote(r)}`,
    `  local teachers, mean         ${pct(r.baselines.localMean)}   (${r.teachers.map((t) => pct(t.acc).trim()).join(', ')})`,
    `  one-shot FedAvg              ${pct(r.baselines.fedavgOneShot)}   (clients from one shared initialisation, averaged once)`,
    `  averaged teachers            ${pct(r.baselines.averagedTeachers)}   (the same average of the fleet's own teachers)`,
    `  multi-round FedAvg           ${pct(r.baselines.fedavgMultiRound)}`,
    `  centralized (upper bound)    ${pct(r.baselines.centralized)}`,
    '',
    `  traffic per device: ${kib(mean(down))} down, ${kib(mean(up))} up on average; ${r.queries} queries in all`,
    `  phases: ${Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}`,
  ].join('\n');
}
