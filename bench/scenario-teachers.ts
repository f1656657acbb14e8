/**
 * The `--scenario <file> [--seed n]` preamble of the benches that study one scenario's fleet: the scenario,
 * the seed (the caller's, else --seed, else the scenario's first), its data split and partition, and its cached teachers (trained
 * first if missing), with the compute backend started.
 */
import { initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { partitionDataset } from '../shared/data/partition.js';
import { loadScenario } from '../simulations/scenario.js';
import { prepareTeachers } from '../simulations/teachers.js';
import { arg, integer } from './args.js';

export async function scenarioTeachers(knownSeed?: number) {
  const scenarioFile = arg('scenario');
  if (!scenarioFile) throw new Error('--scenario <file.json> is required');
  const s = loadScenario(scenarioFile);
  // A bench that studies a run takes the run's own seed (knownSeed), so the teachers cannot be another seed's.
  const seed = knownSeed ?? integer('seed', s.seeds[0], 0);
  await initBackend(() => {});
  const { train, test } = loadDataset(s.dataset, { limit: s.limit, splitSeed: seed });
  const parts = partitionDataset(train, { ...s.partition, seed });
  const { models } = await prepareTeachers(s, seed, train, parts, console.log, 2);
  return { scenarioFile, s, seed, train, test, parts, models };
}
