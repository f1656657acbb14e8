/** Devices hosted in worker threads answer, and train their teachers, exactly as on the main thread. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
import { saveModel } from '../../shared/models/store.js';
import { seededRandom } from '../../shared/random.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { measureClassBatchNormStats } from '../../edge-agent/teacher/class-stats.js';
import { tapBatchNorm } from '../../edge-agent/teacher/device-loss.js';
import { workerFleet } from '../../simulations/worker-ports.js';
import { loadDataset } from '../../shared/data/registry.js';
import { partitionDataset } from '../../shared/data/partition.js';
import { loadScenario } from '../../simulations/scenario.js';
import { prepareTeachers } from '../../simulations/teachers.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-workers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker-hosted devices', () => {
  it('return the same info, logits and gradients as in-process teachers, per-class BN statistics included', async () => {
    await initBackend(() => {});
    const spec = { kind: 'cnn', conv: [4], dense: [8], batchNorm: true };
    const locals: LocalTeacher[] = [];
    const devices = [];
    const dataRng = seededRandom(3);
    const data = { name: 'toy', sampleShape: [8, 8, 1], numClasses: 10, x: Float32Array.from({ length: 40 * 64 }, () => dataRng.next()), y: Int32Array.from({ length: 40 }, (_, i) => i % 10) };
    for (let d = 0; d < 3; d++) {
      const model = buildModel(spec, { inputShape: [8, 8, 1], numClasses: 10, seed: d + 1 });
      await saveModel(model, join(dir, `d${d}`));
      const histogram = Array.from({ length: 10 }, (_, c) => (c + d) % 3);
      const classStats = measureClassBatchNormStats(tapBatchNorm(model), data);
      locals.push(new LocalTeacher({ deviceId: `device-${d}`, model, labelHistogram: histogram, classStats }));
      devices.push({ index: d, modelDir: join(dir, `d${d}`), histogram, blackBox: d === 2, classStats });
    }
    const fleet = await workerFleet(devices, 2);
    try {
      const rng = seededRandom(9);
      const inputs = { shape: [6, 8, 8, 1], values: Float32Array.from({ length: 6 * 64 }, () => rng.next()) };
      const query = { inputs, targets: Int32Array.from([0, 1, 2, 3, 4, 5]), weights: { ce: 1, bn: 1, adv: 0 } };
      for (let d = 0; d < 2; d++) {
        expect(await fleet.ports[d].info()).toEqual(await locals[d].info());
        for (const q of [query, { ...query, bnClassMix: 'class' as const }]) {
          const remote = await fleet.ports[d].gradient(q);
          const local = await locals[d].gradient(q);
          remote.inputGradient.values.forEach((v, i) => expect(v).toBeCloseTo(local.inputGradient.values[i], 5));
          remote.logits.values.forEach((v, i) => expect(v).toBeCloseTo(local.logits.values[i], 5));
          expect(remote.loss.bn).toBeCloseTo(local.loss.bn, 4);
        }
        // The per-class term is another loss than the running-statistics one.
        expect((await locals[d].gradient({ ...query, bnClassMix: 'class' })).loss.bn).not.toBeCloseTo((await locals[d].gradient(query)).loss.bn, 2);
      }
      await expect(fleet.ports[2].gradient(query)).rejects.toThrow(/black-box teacher/);
      expect((await fleet.ports[2].logits({ inputs })).logits.shape).toEqual([6, 10]);
    } finally {
      await fleet.close();
    }
  });
});

describe('teachers trained on worker threads', () => {
  it('have the same weights as teachers trained one after another on the main thread, augmentation included', async () => {
    await initBackend(() => {});
    const base = loadScenario(new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname);
    const s = { ...base, partition: { ...base.partition, devices: 3 }, teacherSpecs: base.teacherSpecs.slice(0, 3), teacherTraining: { ...base.teacherTraining, epochs: 2, augment: { shift: 1, flip: true, noise: 0.05 } } };
    const { train } = loadDataset(s.dataset, { splitSeed: 5 });
    const parts = partitionDataset(train, { ...s.partition, seed: 5 });
    const trainWith = async (workers: number) => {
      process.env.DISTILLERY_CACHE = join(dir, `cache-${workers}`);
      const lines: string[] = [];
      const { models } = await prepareTeachers(s, 5, train, parts, (l) => lines.push(l), workers);
      return { weights: models.map((m) => m.getWeights().map((w) => Array.from(w.dataSync()))), lines };
    };
    const previous = process.env.DISTILLERY_CACHE;
    try {
      const serial = await trainWith(0);
      const parallel = await trainWith(2);
      expect(parallel.lines[0]).toBe('training 3 teachers on 2 worker threads');
      expect(parallel.lines.filter((l) => /^teacher \d: trained on \d+ local samples/.test(l))).toHaveLength(3);
      // Each thread reports every epoch of every teacher as it goes, as the main thread does.
      for (const run of [serial, parallel]) {
        const epochs = run.lines.filter((l) => /^teacher \d: epoch [12]\/2, loss \d+\.\d{3} \(\d+\.\d s\)$/.test(l));
        expect(epochs.map((l) => l.slice(0, 18)).sort()).toEqual(['teacher 0: epoch 1', 'teacher 0: epoch 2', 'teacher 1: epoch 1', 'teacher 1: epoch 2', 'teacher 2: epoch 1', 'teacher 2: epoch 2']);
      }
      expect(parallel.weights).toEqual(serial.weights);
      // A second call finds all three in the cache and trains nothing.
      expect((await trainWith(2)).lines).toEqual([]);
    } finally {
      if (previous === undefined) delete process.env.DISTILLERY_CACHE;
      else process.env.DISTILLERY_CACHE = previous;
    }
  });
});
