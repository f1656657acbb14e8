/** `distillery distill`: runs a fleet scenario (teachers, data-free distillation, baselines) and reports. */
import { join } from 'node:path';
import type { Command } from '../command.js';
import { numberFlag, parseArgs, UsageError, type Flags } from '../args.js';
import { loadScenario, ScenarioError } from '../../simulations/scenario.js';
import { runScenario, type Report } from '../../simulations/run.js';
import { OutputFolderError } from '../../simulations/output-folder.js';
import { formatReport } from '../../simulations/summary.js';

const flags: Flags = {
  scenario: { type: 'string', description: 'scenario file (see simulations/scenarios/)' },
  out: { type: 'string', description: 'output folder for report.json, samples.png, the student and checkpoints', default: 'out/<scenario>/seed-<seed>' },
  seed: { type: 'string', description: 'seed (default: the scenario\'s first seed)' },
  'skip-baselines': { type: 'boolean', description: 'skip the FedAvg and centralized baselines' },
  'keep-students': { type: 'boolean', description: "save the student's own weights after every round in <out>/students/round-<r>/ (npm run bench:round-average)" },
  workers: { type: 'string', description: 'worker threads hosting the simulated devices, which answer queries in parallel (0: the main thread)', default: '2' },
};

export async function distill(argv: string[], command: string): Promise<Report> {
  const p = parseArgs(argv, flags, command);
  if (!p.flags.scenario) throw new UsageError(`${command}: --scenario <file> is required`);
  let scenario;
  try {
    scenario = loadScenario(p.flags.scenario as string);
  } catch (e) {
    if (e instanceof ScenarioError) throw new UsageError(`${command}: ${e.message}`);
    throw e;
  }
  const seed = numberFlag(p, 'seed', command) ?? scenario.seeds[0];
  const out = p.flags.out === flags.out.default ? join('out', scenario.name, `seed-${seed}`) : (p.flags.out as string);
  const workers = numberFlag(p, 'workers', command)!;
  if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`${command}: --workers must be an integer >= 0, got ${workers}`);
  const report = await runScenario({ scenario, seed, out, skipBaselines: Boolean(p.flags['skip-baselines']), keepStudents: Boolean(p.flags['keep-students']), workers }).catch((e: unknown) => {
    if (e instanceof OutputFolderError) throw new UsageError(`${command}: ${e.message}`);
    throw e;
  });
  console.log(formatReport(report));
  console.log(`\nreport: ${join(out, 'report.json')}${scenario.dataset !== 'breast-cancer' ? `, samples: ${join(out, 'samples.png')}` : ''}, student: ${join(out, 'student')}`);
  return report;
}

export const distillCommand: Command = {
  name: 'distill',
  usage: 'distillery distill --scenario <file.json> [--out dir] [--seed n]',
  summary: 'distill a global student from a simulated fleet\'s teachers without their data or weights',
  flags,
  async run(argv) {
    await distill(argv, 'distill');
    return 0;
  },
};
