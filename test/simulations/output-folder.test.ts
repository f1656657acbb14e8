/** An output folder is claimed by one set of teachers: the same keys pass, other keys stop with an error naming both. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { claimOutputFolder, OutputFolderError } from '../../simulations/output-folder.js';
import { loadScenario } from '../../simulations/scenario.js';
import { teacherKey } from '../../simulations/teachers.js';

const root = mkdtempSync(join(tmpdir(), 'distillery-out-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('output folder', () => {
  it('records the teachers on first use, accepts them again and refuses other teachers', () => {
    const out = join(root, 'a');
    claimOutputFolder(out, ['k1', 'k2']);
    expect(JSON.parse(readFileSync(join(out, 'teachers.json'), 'utf8'))).toEqual({ teachers: ['k1', 'k2'] });
    expect(() => claimOutputFolder(out, ['k1', 'k2'])).not.toThrow();
    expect(() => claimOutputFolder(out, ['k1', 'k3'])).toThrow(OutputFolderError);
    expect(() => claimOutputFolder(out, ['k1', 'k3'])).toThrow(/holds a run with other teachers .*\["k1","k2"\].*\["k1","k3"\].*Use another --out, or delete/);
    writeFileSync(join(out, 'teachers.json'), '{oops');
    expect(() => claimOutputFolder(out, ['k1', 'k2'])).toThrow(/teachers.json is not valid JSON/);
  });

  it('tells apart teachers trained another way: the keys follow the teachers block', () => {
    const s = loadScenario(new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname);
    const keys = (scenario: typeof s) => scenario.teacherSpecs.map((_, d) => teacherKey(scenario, 1, d));
    const adversarial = { ...s, teacherTraining: { ...s.teacherTraining, augment: { adversarial: 0.05 } } };
    const out = join(root, 'b');
    claimOutputFolder(out, keys(s));
    expect(() => claimOutputFolder(out, keys(s))).not.toThrow();
    expect(() => claimOutputFolder(out, keys(adversarial))).toThrow(/holds a run with other teachers/);
  });
});
