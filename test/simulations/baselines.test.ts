/**
 * One-shot FedAvg against its definition: every client starts from one shared model, trains on its own
 * partition only, and the server averages once. Averaging independently initialised teachers is not FedAvg.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { useTemporaryCache } from './helpers/temporary-cache.js';
import { buildModel } from '../../shared/models/build.js';
import { fit } from '../../shared/train/fit.js';
import { subset } from '../../shared/data/dataset.js';
import { loadDataset } from '../../shared/data/registry.js';
import { partitionDataset } from '../../shared/data/partition.js';
import { loadScenario } from '../../simulations/scenario.js';
import { prepareTeachers } from '../../simulations/teachers.js';
import { averagedAccuracy, fedavgOneShot } from '../../simulations/baselines.js';

const SEED = 3;
const cache = useTemporaryCache('baselines');

const base = loadScenario(new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname);
const s = { ...base, partition: { ...base.partition, devices: 3 }, teacherSpecs: base.teacherSpecs.slice(0, 3), teacherTraining: { ...base.teacherTraining, epochs: 3 } };
const { train, test } = loadDataset(s.dataset, { splitSeed: SEED });
const parts = partitionDataset(train, { ...s.partition, seed: SEED });
const weightsOf = (m: { getWeights(): { dataSync(): ArrayLike<number> }[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe('one-shot FedAvg baseline', () => {
  it('trains each client from the one shared initialisation on its own partition, cached apart from the teachers', async () => {
    const lines: string[] = [];
    const clients = await prepareTeachers(s, SEED, train, parts, (l) => lines.push(l), 0, 'shared');
    const teachers = await prepareTeachers(s, SEED, train, parts, () => {}, 0);
    for (let d = 0; d < parts.length; d++) {
      // The reference: the shared initial model, fitted on device d's samples with device d's data order.
      const reference = buildModel(s.teacherSpecs[d], { inputShape: train.sampleShape, numClasses: train.numClasses, seed: SEED * 100 + 99 });
      await fit(reference, subset(train, parts[d].indices, `device-${d}`), { ...s.teacherTraining, seed: SEED * 100 + d });
      expect(weightsOf(clients.models[d])).toEqual(weightsOf(reference));
      expect(clients.dirs[d]).toContain(join(cache, 'fedavg-clients'));
      expect(clients.dirs[d]).not.toBe(teachers.dirs[d]);
      expect(weightsOf(clients.models[d])).not.toEqual(weightsOf(teachers.models[d]));
    }
    expect(lines.filter((l) => /^FedAvg client \d: trained on \d+ local samples/.test(l))).toHaveLength(3);
  });

  it('averages into a working model, where averaging independently initialised teachers is near chance', async () => {
    const { models: teachers } = await prepareTeachers(s, SEED, train, parts, () => {}, 0);
    const oneShot = (await fedavgOneShot(s, train, parts, test, SEED, () => {}, 0))!;
    const averagedTeachers = averagedAccuracy(s, teachers, parts, test, SEED)!;
    expect(averagedTeachers).toBeLessThan(0.3);
    expect(oneShot).toBeGreaterThan(averagedTeachers + 0.15);
  });

  it('trains its clients the plain way when the teachers train with input noise and recalibrated BN', async () => {
    const noisy = { ...s, teacherTraining: { ...s.teacherTraining, augment: { noise: 0.1 }, recalibrateBn: true } };
    const plain = (await fedavgOneShot(s, train, parts, test, SEED, () => {}, 0))!;
    const lines: string[] = [];
    // The plain clients are cached now (by the line above, if not before): the noisy scenario must find them, not train new ones.
    expect(await fedavgOneShot(noisy, train, parts, test, SEED, (l) => lines.push(l), 0)).toBe(plain);
    expect(lines.filter((l) => /trained on|recalibrated/.test(l))).toEqual([]);
  });

  it('is not defined for fleets whose devices run different architectures', async () => {
    const mixed = { ...s, teacherSpecs: [s.teacherSpecs[0], { ...(s.teacherSpecs[1] as object), dense: [7] }, s.teacherSpecs[2]] };
    expect(await fedavgOneShot(mixed, train, parts, test, SEED, () => {}, 0)).toBeNull();
  });
});
