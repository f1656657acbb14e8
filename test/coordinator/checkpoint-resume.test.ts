/**
 * Regression: resuming from a checkpoint after dozens of optimizer steps must stay bit-exact. TF.js's Adam
 * recomputes its bias-correction products as pow(β, t + 1) in setWeights, which differs in the last bits
 * from the running product; the checkpoint now carries the products themselves.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../../shared/models/build.js';
import { buildGenerator } from '../../coordinator/engine/generator.js';
import { Distiller } from '../../coordinator/engine/distiller.js';
import { DirectoryCheckpoints } from '../../coordinator/engine/checkpoint.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { digitsFleet, STUDENT_SPEC, type Fleet } from '../distill/fleet-fixture.js';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await digitsFleet(2, 2);
});

async function distill(rounds: number, dir?: string) {
  const config = parseDistillConfig({ rounds, generatorSteps: 2, studentSteps: 40, batchSize: 16, studentBatchSize: 16, warmupRounds: 1 });
  const student = buildModel(STUDENT_SPEC, { inputShape: [8, 8, 1], numClasses: 10, seed: 4 });
  const generator = buildGenerator({ sampleShape: [8, 8, 1], numClasses: 10, zDim: config.zDim, seed: 4 });
  const d = new Distiller({ ports: fleet.ports(), student, generator, config, seed: 4, checkpoints: dir ? new DirectoryCheckpoints(dir, { generator, student }) : undefined });
  await d.run();
  return { student, d };
}

describe('checkpoint resume after many optimizer steps', () => {
  it('restores Adam exactly, so the resumed run ends on the uninterrupted run\'s weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-resume-'));
    try {
      const straight = await distill(3);
      await distill(2, dir);
      const resumed = await distill(3, dir);
      const acc = (d: Distiller) => (d.studentOptimizer as unknown as { accBeta2: tf.Variable }).accBeta2.dataSync()[0];
      expect(acc(resumed.d)).toBe(acc(straight.d));
      expect(acc(resumed.d)).not.toBe(Math.fround(0.999 ** 121)); // the product, not a recomputed power
      expect(resumed.student.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(straight.student.getWeights().map((w) => Array.from(w.dataSync())));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
