/**
 * What sending seeds instead of inputs would save, per generator step and device, for every shipped scenario
 * (`npm run bench:distill -- --part seeds`; bench/results/seeded-queries.json). Counts, not timings: float32
 * payload bytes of the parts that differ (targets, weights and student probabilities travel either way).
 *
 * - Generator replica: a device holding a copy of G could rebuild the query batch from a seed, but its copy
 *   must follow G, which changes every step, so each step sends G's update (|θ| values) instead of the
 *   batch (n·d values).
 * - Zeroth-order probes: a black-box device expands x + μ·u_k from a seed (shared/distill/probes.ts), so
 *   the step sends x once instead of 1 + K times.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { generatorFor } from '../coordinator/engine/generator.js';
import { loadScenario } from '../simulations/scenario.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';

export async function seedEconomics(root: string): Promise<void> {
  await initBackend(() => {});
  const dir = join(root, 'simulations', 'scenarios');
  const rows = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const s = loadScenario(join(dir, file));
    const { train } = loadDataset(s.dataset, { limit: 1, splitSeed: 1 });
    const g = generatorFor(s.distill, train.sampleShape, train.numClasses, 1);
    const d = train.sampleShape.reduce((a, b) => a * b, 1);
    const n = s.distill.batchSize;
    const K = s.distill.zerothOrder.directions;
    const row = {
      scenario: s.name,
      generatorParams: g.countParams(),
      inputsPerQuery: n * d,
      batchBytes: 4 * n * d,
      replicaUpdateBytes: 4 * g.countParams() + 4,
      explicitProbeBytes: 4 * (K + 1) * n * d,
      seededProbeBytes: 4 * n * d + 12,
    };
    g.dispose();
    rows.push(row);
    const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
    console.log(
      `${row.scenario.padEnd(26)} G ${String(row.generatorParams).padStart(7)} params  batch ${kib(row.batchBytes).padStart(10)}  replica update ${kib(row.replicaUpdateBytes).padStart(10)} (${(row.replicaUpdateBytes / row.batchBytes).toFixed(2)}x)  ` +
        `black box: probes ${kib(row.explicitProbeBytes)} -> seeded ${kib(row.seededProbeBytes)} (${(row.seededProbeBytes / row.explicitProbeBytes).toFixed(3)}x)`,
    );
  }
  writeFileAtomic(join(root, 'bench', 'results', 'seeded-queries.json'), JSON.stringify({ unit: 'float32 payload bytes per generator step and device', rows }, null, 2) + '\n');
}
