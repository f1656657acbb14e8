/** Scenario files: every shipped scenario loads, and bad ones get an error naming the field. */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { loadScenario, parseScenario, ScenarioError } from '../../simulations/scenario.js';
import { teacherKey } from '../../simulations/teachers.js';

const DIR = new URL('../../simulations/scenarios/', import.meta.url).pathname;
const digits = JSON.parse(readFileSync(`${DIR}digits-dir0.5.json`, 'utf8'));

function errorFor(mutate: (s: Record<string, any>) => void): string {
  const s = structuredClone(digits);
  mutate(s);
  try {
    parseScenario(s);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error('expected the scenario to be rejected');
}

describe('scenarios', () => {
  it('ships the five required scenarios, all valid', () => {
    const names = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.replace('.json', ''));
    for (const required of ['fmnist-cnn-dir0.5', 'fmnist-cnn-dir0.1', 'fmnist-mlp-dir0.5', 'digits-dir0.5', 'breast-cancer-4-hospitals']) {
      expect(names).toContain(required);
    }
    for (const n of names) expect(loadScenario(`${DIR}${n}.json`).name).toBe(n);
  });

  it('names the bad field', () => {
    expect(errorFor((s) => (s.dataset = 'cifar10'))).toMatch(/scenario.dataset: unknown dataset "cifar10"; use one of fashion-mnist, digits, breast-cancer/);
    expect(errorFor((s) => (s.partition.alpha = 0))).toMatch(/scenario.partition.alpha: must be a number > 0, got 0/);
    expect(errorFor((s) => (s.partition.alpha = -1))).toMatch(/scenario.partition.alpha/);
    expect(errorFor((s) => (s.partition.devices = 0))).toMatch(/scenario.partition.devices: must be an integer >= 1, got 0/);
    expect(errorFor((s) => (s.teachers.spec = { kind: 'transformer' }))).toMatch(/scenario.teachers.spec.kind: unknown model kind "transformer"/);
    expect(errorFor((s) => (s.student.spec = 'resnet'))).toMatch(/scenario.student.spec: .*neither a preset/);
    expect(errorFor((s) => (s.distill.aggregation = 'vote'))).toMatch(/scenario.distill.aggregation: unknown strategy "vote"; use one of mean-logits/);
    expect(errorFor((s) => (s.partition.scheme = 'random'))).toMatch(/scenario.partition.scheme: unknown scheme "random"; use one of iid, dirichlet, shards, quantity/);
    expect(errorFor((s) => (s.teachers.specs = [{ kind: 'mlp', hidden: [4] }]))).toMatch(/scenario.teachers.specs: must list one spec per device \(5\)/);
    expect(errorFor((s) => (s.seedz = [1]))).toMatch(/scenario.seedz: unknown field/);
    expect(() => loadScenario(`${DIR}nope.json`)).toThrow(/does not exist/);
    expect(errorFor((s) => (s.teachers.augment = { noise: 2 }))).toMatch(/scenario.teachers.augment.noise: must be a number in 0..1, got 2/);
    expect(errorFor((s) => (s.teachers.augment = { crop: 2 }))).toMatch(/scenario.teachers.augment.crop: unknown field/);
    expect(errorFor((s) => (s.evaluateEvery = 0))).toMatch(/scenario.evaluateEvery: must be an integer >= 1, got 0/);
    expect(errorFor((s) => (s.evaluateEvery = 2.5))).toMatch(/scenario.evaluateEvery: must be an integer >= 1, got 2.5/);
    expect(errorFor((s) => (s.teachers.recalibrateBn = 'yes'))).toMatch(/scenario.teachers.recalibrateBn: must be true or false, got "yes"/);
  });

  it('keys the teacher cache by the augmentation only when there is one', () => {
    const plain = parseScenario(structuredClone(digits));
    const off = parseScenario({ ...structuredClone(digits), teachers: { ...digits.teachers, augment: { noise: 0 } } });
    const on = parseScenario({ ...structuredClone(digits), teachers: { ...digits.teachers, augment: { noise: 0.2 } } });
    expect(on.teacherTraining.augment).toEqual({ noise: 0.2 });
    expect('augment' in off.teacherTraining).toBe(false);
    // Teachers cached before augmentation existed stay valid; augmented ones get their own folder.
    expect(teacherKey(off, 1, 0)).toBe(teacherKey(plain, 1, 0));
    expect(teacherKey(on, 1, 0)).not.toBe(teacherKey(plain, 1, 0));
  });
});
