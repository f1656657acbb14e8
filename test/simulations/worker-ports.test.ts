/** Devices hosted in worker threads answer exactly as the same devices on the main thread. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
import { saveModel } from '../../shared/models/store.js';
import { seededRandom } from '../../shared/random.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { workerFleet } from '../../simulations/worker-ports.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-workers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker-hosted devices', () => {
  it('return the same info, logits and gradients as in-process teachers', async () => {
    await initBackend(() => {});
    const spec = { kind: 'cnn', conv: [4], dense: [8], batchNorm: true };
    const locals: LocalTeacher[] = [];
    const devices = [];
    for (let d = 0; d < 3; d++) {
      const model = buildModel(spec, { inputShape: [8, 8, 1], numClasses: 10, seed: d + 1 });
      await saveModel(model, join(dir, `d${d}`));
      const histogram = Array.from({ length: 10 }, (_, c) => (c + d) % 3);
      locals.push(new LocalTeacher({ deviceId: `device-${d}`, model, labelHistogram: histogram }));
      devices.push({ index: d, modelDir: join(dir, `d${d}`), histogram, blackBox: d === 2 });
    }
    const fleet = await workerFleet(devices, 2);
    try {
      const rng = seededRandom(9);
      const inputs = { shape: [6, 8, 8, 1], values: Float32Array.from({ length: 6 * 64 }, () => rng.next()) };
      const query = { inputs, targets: Int32Array.from([0, 1, 2, 3, 4, 5]), weights: { ce: 1, bn: 1, adv: 0 } };
      for (let d = 0; d < 2; d++) {
        expect(await fleet.ports[d].info()).toEqual(await locals[d].info());
        const remote = await fleet.ports[d].gradient(query);
        const local = await locals[d].gradient(query);
        remote.inputGradient.values.forEach((v, i) => expect(v).toBeCloseTo(local.inputGradient.values[i], 5));
        remote.logits.values.forEach((v, i) => expect(v).toBeCloseTo(local.logits.values[i], 5));
      }
      await expect(fleet.ports[2].gradient(query)).rejects.toThrow(/black-box teacher/);
      expect((await fleet.ports[2].logits({ inputs })).logits.shape).toEqual([6, 10]);
    } finally {
      await fleet.close();
    }
  });
});
