/**
 * The baselines that train, on their own thread: the same accuracies as trained in process, cached for the next run,
 * and a failure reported as a rejected accuracy (the runner then trains the baseline itself), never a crash.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { getPriority, platform, tmpdir } from 'node:os';
import { useTemporaryCache } from './helpers/temporary-cache.js';
import { loadDataset } from '../../shared/data/registry.js';
import { partitionDataset } from '../../shared/data/partition.js';
import { loadScenario } from '../../simulations/scenario.js';
import { centralized, fedavgMultiRound, fedavgOneShot } from '../../simulations/baselines.js';
import { baselineFile } from '../../simulations/baseline-cache.js';
import { baselinesInBackground } from '../../simulations/background-baselines.js';

const SEED = 6;
// One cache for the baseline thread, another for the same baselines trained here, so that neither reads the
// other's. A worker thread gets a copy of the environment as it is when the thread starts.
const cache = useTemporaryCache('background-baselines');
const hereCache = mkdtempSync(join(tmpdir(), 'distillery-baselines-here-'));
afterAll(() => rmSync(hereCache, { recursive: true, force: true }));

const base = loadScenario(new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname);
const s = { ...base, teacherTraining: { ...base.teacherTraining, epochs: 3 }, baselines: { fedavgRounds: 2, fedavgLocalEpochs: 1, centralizedEpochs: 2 } };

describe('baselines in the background', () => {
  it('gives the accuracies an in-process run gives, and caches them', async () => {
    const lines: string[] = [];
    const priorityHere = getPriority();
    const background = baselinesInBackground(s, SEED, ['fedavgOneShot', 'fedavgMultiRound', 'centralized'], (l) => lines.push(l));
    try {
      process.env.DISTILLERY_CACHE = hereCache;
      const { train, test } = loadDataset(s.dataset, { limit: s.limit, splitSeed: SEED });
      const parts = partitionDataset(train, { ...s.partition, seed: SEED });
      const oneShot = await fedavgOneShot(s, train, parts, test, SEED, () => {}, 0);
      const fedavg = await fedavgMultiRound(s, train, parts, test, SEED, () => {});
      const pooled = await centralized(s, train, test, SEED);
      process.env.DISTILLERY_CACHE = cache;
      expect(oneShot).toBeGreaterThan(0.2);
      expect(await background.accuracy('fedavgOneShot')).toBe(oneShot);
      expect(await background.accuracy('fedavgMultiRound')).toBe(fedavg);
      expect(await background.accuracy('centralized')).toBe(pooled);
      for (const [kind, accuracy] of [['fedavgMultiRound', fedavg], ['centralized', pooled]] as const) {
        expect(JSON.parse(readFileSync(baselineFile(kind, s, SEED), 'utf8')).accuracy).toBe(accuracy);
      }
      // The thread trained (and cached) its own one-shot FedAvg clients.
      expect(lines.filter((l) => /^FedAvg client \d: trained on \d+ local samples .*\(cached in .*fedavg-clients/.test(l) && l.includes(cache))).toHaveLength(s.partition.devices);
      expect(lines.filter((l) => /^fedavg round \d\/2: test accuracy/.test(l))).toHaveLength(2);
      // On Linux the thread lowers its own priority only: this thread keeps the one it had.
      if (platform() === 'linux') {
        expect(lines).toContain(`baseline thread: nice ${Math.min(19, priorityHere + 10)}, so the distillation keeps the cores it needs`);
        expect(getPriority()).toBe(priorityHere);
      }
    } finally {
      process.env.DISTILLERY_CACHE = cache;
      await background.close();
    }
  });

  it('gives back what it has not started, and never trains it', async () => {
    const cheap = { ...s, limit: 700 };
    const background = baselinesInBackground(cheap, SEED, ['fedavgMultiRound', 'centralized'], () => {});
    try {
      // Claimed before the thread has even loaded its data: it stays with the caller.
      expect(background.claim('centralized')).toBeUndefined();
      const fedavg = await background.accuracy('fedavgMultiRound');
      expect(fedavg).toBeGreaterThan(0);
      // Started (here: finished) by the thread: claiming it hands over the thread's result.
      expect(await background.claim('fedavgMultiRound')).toBe(fedavg);
      expect(existsSync(baselineFile('fedavgMultiRound', cheap, SEED))).toBe(true);
      expect(existsSync(baselineFile('centralized', cheap, SEED))).toBe(false);
    } finally {
      await background.close();
    }
  });

  it('rejects what it could not deliver, naming why, without throwing anywhere else', async () => {
    const broken = baselinesInBackground({ ...s, dataset: 'no-such-data' }, SEED, ['centralized'], () => {});
    await expect(broken.accuracy('centralized')).rejects.toThrow(/no-such-data/);
    await broken.close();
    expect(existsSync(baselineFile('centralized', { ...s, dataset: 'no-such-data' }, SEED))).toBe(false);
    const stopped = baselinesInBackground({ ...s, baselines: { ...s.baselines, centralizedEpochs: 20 } }, SEED, ['centralized'], () => {});
    await stopped.close();
    await expect(stopped.accuracy('centralized')).rejects.toThrow(/the baseline thread exited with code \d+ before it finished/);
    await expect(stopped.accuracy('fedavgMultiRound')).rejects.toThrow(/fedavgMultiRound was not asked of the baseline thread/);
  });
});
