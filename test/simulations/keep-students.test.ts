/**
 * `distill --keep-students`: every round's own student is saved beside the run, and with the weight average
 * taken once a round the exported student is that average of the kept ones (what bench:round-average reads).
 * The same run tests the student every second round only (`evaluateEvery`), and after the last; started again,
 * it resumes the finished run and its report says from which round.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useTemporaryCache } from './helpers/temporary-cache.js';
import { loadScenario, parseScenario } from '../../simulations/scenario.js';
import { runScenario } from '../../simulations/run.js';
import { formatReport } from '../../simulations/summary.js';
import { loadModel } from '../../shared/models/store.js';
import { readCheckpointContents } from '../../coordinator/engine/checkpoint.js';
import { AGGREGATION_NAMES } from '../../shared/distill/aggregation/index.js';

useTemporaryCache('keep-students');
const file = new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname;
const raw = JSON.parse(readFileSync(file, 'utf8'));
const scenario = parseScenario({
  ...raw,
  evaluateEvery: 2,
  teachers: { ...raw.teachers, epochs: 2 },
  distill: { ...raw.distill, rounds: 3, generatorSteps: 2, studentSteps: 20, studentEma: 0.5, studentEmaEvery: 'round' },
});

const weights = async (dir: string) => (await loadModel(dir)).getWeights().map((w) => Float32Array.from(w.dataSync()));

describe('distill --keep-students', () => {
  it('keeps each round\'s own student; the exported student is their average; a second start resumes and says so', async () => {
    expect(loadScenario(file).name).toBe(scenario.name);
    const out = mkdtempSync(join(tmpdir(), 'distillery-keep-students-'));
    try {
      const lines: string[] = [];
      const report = await runScenario({ scenario, seed: 3, out, skipBaselines: true, keepStudents: true, log: (line) => lines.push(line) });
      expect(report.rounds).toHaveLength(3);
      // evaluateEvery 2: round 2 and the last round are tested, round 1 is not (nor printed as if it were).
      expect(report.rounds.map((r) => typeof r.studentAcc)).toEqual(['undefined', 'number', 'number']);
      expect(report.rounds[2].studentAcc).toBe(report.studentAcc);
      // The ensemble is reported under every strategy; the run's own is the one the student is compared with.
      expect(Object.keys(report.ensembleByStrategy)).toEqual(AGGREGATION_NAMES);
      expect(report.ensembleByStrategy[scenario.distill.aggregation]).toBe(report.ensembleAcc);
      expect(report.ensembleByStrategy['class-weighted']).toBeGreaterThan(report.ensembleByStrategy['mean-logits']);
      // Kept with the baselines, so that a resumed run reads them instead of passing the teachers over the test set again.
      expect(JSON.parse(readFileSync(join(out, 'baselines.json'), 'utf8')).ensembleByStrategy).toEqual(report.ensembleByStrategy);
      const roundLines = lines.filter((l) => /^round \d\/3:/.test(l));
      expect(roundLines.map((l) => /student \d+\.\d\d%/.test(l))).toEqual([false, true, true]);
      const kept: Float32Array[][] = [];
      for (let r = 1; r <= 3; r++) {
        expect(existsSync(join(out, 'students', `round-${r}`))).toBe(true);
        kept.push(await weights(join(out, 'students', `round-${r}`)));
      }
      // The last kept student is the one that trained (the checkpoint's), not the average.
      expect(readCheckpointContents(join(out, 'checkpoint')).student.map((a) => Array.from(a.values))).toEqual(kept[2].map((w) => Array.from(w)));
      // Decay 0.5 once a round: round 1 publishes w1, round 2 (w1 + w2) / 2, round 3 half of that and half w3.
      const exported = await weights(join(out, 'student'));
      exported.forEach((w, k) => w.forEach((v, j) => expect(v).toBeCloseTo(0.25 * kept[0][k][j] + 0.25 * kept[1][k][j] + 0.5 * kept[2][k][j], 5)));
      expect(exported[0]).not.toEqual(kept[2][0]);
      // Started again on the finished folder, the run resumes at its last round and says so: the report's
      // wallSeconds is that process's, while the rounds and the student's accuracy are the run's.
      expect(report.resumedFromRound).toBeUndefined();
      const again = await runScenario({ scenario, seed: 3, out, skipBaselines: true, log: () => {} });
      expect(again.resumedFromRound).toBe(3);
      expect(again.rounds).toEqual(report.rounds);
      expect(again.studentAcc).toBe(report.studentAcc);
      expect(again.ensembleByStrategy).toEqual(report.ensembleByStrategy);
      // Nothing was left to compute: no pass of the teachers over the test set, no baseline.
      expect(again.phases.baselines).toBeUndefined();
      expect(formatReport(again)).toMatch(/in this process, which resumed the run at round 3 \(every round's own seconds: \d+ s\)/);
      expect(formatReport(report)).not.toMatch(/resumed/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
