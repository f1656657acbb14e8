/**
 * The `distillery distill` output folder a bench script studies (`--run`), and its scenario: the report's
 * (simulations/scenarios/<name>.json) or `--scenario`, which a stopped run, having no report.json yet, needs;
 * and the students a `--keep-students` run saved after each round.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, type Scenario } from '../simulations/scenario.js';
import { arg } from './args.js';

const ROOT = new URL('..', import.meta.url).pathname;

export function studiedRun<R extends { scenario: string }>(): { run: string; scenario: Scenario; report?: R } {
  const run = arg('run');
  if (!run) throw new Error('--run <distill output folder> is required (it must hold checkpoint/, and report.json unless --scenario is given)');
  const reportPath = join(run, 'report.json');
  const report = existsSync(reportPath) ? (JSON.parse(readFileSync(reportPath, 'utf8')) as R) : undefined;
  const scenarioFile = arg('scenario') ?? (report ? join(ROOT, 'simulations', 'scenarios', `${report.scenario}.json`) : undefined);
  if (!scenarioFile) throw new Error(`${reportPath} is missing: name the run's scenario with --scenario, or point --run at a finished distill output folder`);
  return { run, scenario: loadScenario(scenarioFile), report };
}

/** The students `distill --keep-students` saved in `run`: rounds 1..rounds, each in folder(r). */
export function keptStudents(run: string): { rounds: number; folder: (round: number) => string } {
  const folder = (r: number) => join(run, 'students', `round-${r}`);
  let rounds = 0;
  while (existsSync(folder(rounds + 1))) rounds++;
  if (rounds === 0) throw new Error(`${folder(1)} not found: run the distillation with --keep-students`);
  return { rounds, folder };
}
