/** The printed summary names a stronger vote of the same teachers than the run's own, with the student's ratio to it. */
import { describe, expect, it } from 'vitest';
import { bestVote, formatReport } from '../../simulations/summary.js';
import type { Report } from '../../simulations/run.js';

const report = (ensembleByStrategy: Record<string, number>, ensembleAcc: number): Report => ({
  scenario: 'toy',
  seed: 1,
  teachers: [{ device: 0, spec: 'mlp', acc: 0.5, samples: 10, params: 100 }],
  ensembleAcc,
  ensembleByStrategy,
  studentAcc: 0.87,
  student: { spec: 'mlp', params: 10, bytes: 40 },
  baselines: { localMean: 0.5, fedavgOneShot: null, averagedTeachers: null, fedavgMultiRound: 0.8, centralized: 0.9 },
  bytes: { perDeviceUp: [1024], perDeviceDown: [2048], byKind: [] },
  queries: 3,
  rounds: [{ round: 1, studentAcc: 0.87, seconds: 1 }],
  wallSeconds: 2,
  phases: {},
});

describe('the summary\'s ensemble line', () => {
  it('names the strongest vote where it beats the run\'s own, with the student\'s ratio to it', () => {
    const r = report({ 'class-weighted': 0.9, aligned: 0.88, 'mean-logits': 0.7 }, 0.88);
    expect(bestVote(r)).toEqual({ strategy: 'class-weighted', acc: 0.9 });
    // 0.87 / 0.90 = 0.9667
    expect(formatReport(r)).toContain('teacher ensemble (ceiling)    88.00%   (the class-weighted vote of the same teachers: 90.00%; student / it 0.967)');
  });

  it('says nothing more when the run\'s own vote is the strongest, or the report predates the field', () => {
    const own = report({ 'class-weighted': 0.9, aligned: 0.88 }, 0.9);
    expect(bestVote(own)).toBeUndefined();
    expect(formatReport(own)).toMatch(/teacher ensemble \(ceiling\) {4}90\.00%\n/);
    const old = { ...own, ensembleByStrategy: undefined } as unknown as Report;
    expect(bestVote(old)).toBeUndefined();
  });
});
