/**
 * Privacy at the TeacherPort: during a real distillation run, every message that crosses the port is
 * recorded, and none carries teacher weights or a local training sample — only the vocabulary of
 * shared/distill/port.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../shared/models/build.js';
import { subset } from '../../shared/data/dataset.js';
import { buildGenerator } from '../../coordinator/engine/generator.js';
import { Distiller } from '../../coordinator/engine/distiller.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import type { TeacherPort } from '../../shared/distill/port.js';
import { digitsFleet, STUDENT_SPEC, type Fleet } from './fleet-fixture.js';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await digitsFleet(3, 3);
});

const ALLOWED_KEYS = new Set([
  // queries
  'inputs', 'targets', 'sampleWeights', 'classWeights', 'studentProbs', 'weights', 'ce', 'bn', 'adv', 'shape', 'values', 'bnClassMix',
  'smoothGrad', 'sigma', 'samples', 'seed',
  // replies
  'logits', 'inputGradient', 'loss', 'numClasses', 'inputShape', 'labelHistogram', 'hasBatchNorm', 'gradients',
]);

/** Records every argument and result crossing a port. */
function recording(port: TeacherPort, log: unknown[]): TeacherPort {
  const wrap = <A, R>(f: (a: A) => Promise<R>) => async (a: A) => {
    log.push(a);
    const r = await f(a);
    log.push(r);
    return r;
  };
  return {
    deviceId: port.deviceId,
    info: async () => {
      const r = await port.info();
      log.push(r);
      return r;
    },
    logits: wrap((q) => port.logits(q)),
    gradient: wrap((q) => port.gradient(q)),
  };
}

function walk(value: unknown, visit: (key: string, v: unknown) => void, key = ''): void {
  visit(key, value);
  if (ArrayBuffer.isView(value) || value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) walk(v, visit, Array.isArray(value) ? key : k);
}

function floatArrays(messages: unknown[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (const m of messages) walk(m, (_, v) => v instanceof Float32Array && out.push(v));
  return out;
}

/** Whether `needle` occurs as a contiguous run inside `hay`. */
function contains(hay: Float32Array, needle: Float32Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('privacy at the TeacherPort', () => {
  it.each([
    ['the default recipe', {}],
    ['per-class BN statistics (bnClassMix class)', { device: { bn: 1 }, bnClassMix: 'class' }],
    ['the ensemble CE (generatorCe ensemble: a logits query, then per-class CE weights)', { generatorCe: 'ensemble' }],
    ['SmoothGrad on the devices (a noise seed per query)', { smoothGrad: { sigma: 0.1, samples: 2 } }],
    ['per-teacher heads (teacherHeads: the coordinator keeps each device\'s answers; nothing new is asked)', { teacherHeads: 0.5 }],
  ])('carries no teacher weights and no training samples, only the port vocabulary: %s', async (_, settings) => {
    const log: unknown[] = [];
    const perClass = 'bnClassMix' in settings;
    const ports = fleet.ports(perClass).map((p) => recording(p, log));
    const config = parseDistillConfig({ rounds: 3, generatorSteps: 3, studentSteps: 5, batchSize: 32, studentBatchSize: 32, warmupRounds: 1, ...settings });
    const student = buildModel(STUDENT_SPEC, { inputShape: [8, 8, 1], numClasses: 10, seed: 2 });
    const generator = buildGenerator({ sampleShape: [8, 8, 1], numClasses: 10, seed: 2 });
    await new Distiller({ ports, student, generator, config, seed: 2 }).run();
    await ports[0].logits({ inputs: { shape: [1, 8, 8, 1], values: new Float32Array(64) } });

    expect(log.length).toBeGreaterThan(3 * 3 * 2 * 3);
    for (const m of log) walk(m, (key) => key && expect(ALLOWED_KEYS, `unexpected field ${key}`).toContain(key));

    const arrays = floatArrays(log);
    // The per-class BN statistics stay on the device like the weights (probed per class, 8 channels at a time).
    const statistics = perClass ? fleet.classStats().flatMap((s) => s.layers.flatMap((l) => [l.mean, l.variance])) : [];
    const weights = [...fleet.models.flatMap((m) => m.getWeights().map((w) => w.dataSync() as Float32Array)), ...statistics].filter((w) => w.length >= 8);
    expect(weights.length).toBeGreaterThan(perClass ? 20 : 10);
    if (perClass) expect(log.some((m) => (m as { bnClassMix?: string }).bnClassMix === 'class')).toBe(true);
    if ('smoothGrad' in settings) expect(log.some((m) => (m as { smoothGrad?: unknown }).smoothGrad !== undefined)).toBe(true);
    if ('generatorCe' in settings) expect(log.some((m) => (m as { classWeights?: unknown }).classWeights !== undefined)).toBe(true);
    for (const w of weights) {
      const probe = w.subarray(0, 8);
      for (const a of arrays) expect(contains(a, probe), 'a message contains teacher weights').toBe(false);
    }

    const local = fleet.parts.map((p) => subset(fleet.train, p.indices));
    const rows = new Set<string>();
    for (const d of local) for (let i = 0; i < d.y.length; i++) rows.add(Array.from(d.x.subarray(i * 64, (i + 1) * 64)).join(','));
    let checked = 0;
    for (const a of arrays) {
      if (a.length % 64 !== 0) continue;
      for (let i = 0; i < a.length; i += 64) {
        checked++;
        expect(rows.has(Array.from(a.subarray(i, i + 64)).join(',')), 'a message contains a training sample').toBe(false);
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('detects a port that leaks (the check above can fail)', () => {
    const w = fleet.models[0].getWeights()[0].dataSync() as Float32Array;
    const leaky = Float32Array.from([1, 2, ...w.subarray(0, 20), 3]);
    expect(contains(leaky, w.subarray(0, 8))).toBe(true);
  });
});
