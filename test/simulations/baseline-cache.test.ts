/**
 * The slow baselines' disk cache: a second run, in any output folder and with any distillation recipe, reads the
 * accuracy the first one trained; anything a baseline depends on gives it a new entry; a damaged entry is retrained.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTemporaryCache } from './helpers/temporary-cache.js';
import { loadDataset } from '../../shared/data/registry.js';
import { loadScenario } from '../../simulations/scenario.js';
import { centralized } from '../../simulations/baselines.js';
import { baselineFile, cachedBaseline } from '../../simulations/baseline-cache.js';

const SEED = 4;
const cache = useTemporaryCache('baseline-cache');

const base = loadScenario(new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname);
const s = { ...base, baselines: { ...base.baselines, centralizedEpochs: 1 } };
const { train, test } = loadDataset(s.dataset, { splitSeed: SEED });

describe('baseline cache', () => {
  it('trains once, then every run reads the same accuracy, whatever its distillation recipe', async () => {
    let trainings = 0;
    const compute = () => {
      trainings++;
      return centralized(s, train, test, SEED);
    };
    const first = await cachedBaseline('centralized', s, SEED, compute, () => {});
    expect(first).toBeGreaterThan(0.5);
    const lines: string[] = [];
    const otherRecipe = { ...s, distill: { ...s.distill, rounds: s.distill.rounds + 7, zoom: 0.25 } };
    expect(await cachedBaseline('centralized', otherRecipe, SEED, compute, (l) => lines.push(l))).toBe(first);
    expect(trainings).toBe(1);
    expect(lines).toEqual([`centralized: ${(first * 100).toFixed(2)}% (cached in ${baselineFile('centralized', s, SEED)})`]);
    // The entry records what it was measured on.
    const entry = JSON.parse(readFileSync(baselineFile('centralized', s, SEED), 'utf8'));
    expect(entry).toMatchObject({ kind: 'centralized', dataset: s.dataset, seed: SEED, epochs: 1, spec: s.studentSpec, accuracy: first });
    expect(entry.seconds).toBeGreaterThan(0);
  });

  it('keys each baseline by exactly what it depends on', () => {
    const file = (kind: 'centralized' | 'fedavgMultiRound', scenario: typeof s, seed = SEED) => baselineFile(kind, scenario, seed);
    const moreEpochs = { ...s, baselines: { ...s.baselines, centralizedEpochs: 2 } };
    const otherSkew = { ...s, partition: { ...s.partition, alpha: 0.1 } };
    const otherStudent = { ...s, studentSpec: { ...(s.studentSpec as object), hidden: [7] } } as typeof s;
    expect(file('centralized', moreEpochs)).not.toBe(file('centralized', s));
    expect(file('fedavgMultiRound', moreEpochs)).toBe(file('fedavgMultiRound', s));
    expect(file('fedavgMultiRound', otherSkew)).not.toBe(file('fedavgMultiRound', s));
    expect(file('centralized', otherSkew)).toBe(file('centralized', s));
    expect(file('centralized', otherStudent)).not.toBe(file('centralized', s));
    expect(file('fedavgMultiRound', otherStudent)).toBe(file('fedavgMultiRound', s));
    expect(file('centralized', s, SEED + 1)).not.toBe(file('centralized', s));
    expect(file('fedavgMultiRound', s, SEED + 1)).not.toBe(file('fedavgMultiRound', s));
    expect(file('centralized', s)).toContain(join(cache, 'baselines', `${s.dataset}-centralized-`));
  });

  it('retrains, saying why, when the cached entry is damaged', async () => {
    const other = { ...s, limit: 900 };
    const path = baselineFile('fedavgMultiRound', other, SEED);
    await cachedBaseline('fedavgMultiRound', other, SEED, async () => 0.25, () => {});
    for (const [content, reason] of [['{"accuracy": 3}', /holds no accuracy in 0..1; training the baseline again/], ['{trunc', /is not valid JSON \(.+\); training the baseline again/]] as const) {
      writeFileSync(path, content);
      const lines: string[] = [];
      expect(await cachedBaseline('fedavgMultiRound', other, SEED, async () => 0.5, (l) => lines.push(l))).toBe(0.5);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(reason);
      expect(JSON.parse(readFileSync(path, 'utf8')).accuracy).toBe(0.5);
    }
  });
});
