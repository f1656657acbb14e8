/**
 * `distillery agent` as a user runs it: `agent predict <file> --config agent.json` against a data
 * directory an in-process agent prepared (so its teacher exists) prints one line per sample and exits 0,
 * and configuration or input mistakes exit 2 with one clear line naming the problem.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../../shared/compute/backend.js';
import { loadDataset } from '../../../shared/data/registry.js';
import type { Dataset } from '../../../shared/data/dataset.js';
import { loadAgentConfig } from '../../../edge-agent/agent/config.js';
import { Agent, type Prediction } from '../../../edge-agent/agent/agent.js';
import { writeJsonl } from './fixture.js';

const root = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'distillery-agent-cli-'));
const configFile = join(tmp, 'agent.json');
let test: Dataset;
let expected: Prediction[];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(root, 'bin', 'distillery.js'), ...args], { cwd: tmp, timeout: 30_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const rows = Array.from({ length: 12 }, (_, i) => i);

beforeAll(async () => {
  await initBackend(() => {});
  let train: Dataset;
  ({ train, test } = loadDataset('digits', { splitSeed: 1 }));
  writeJsonl(join(tmp, 'samples', 'local.jsonl'), train, Array.from({ length: 300 }, (_, i) => i));
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir: './state',
      data: { dir: './samples', sampleShape: [8, 8, 1], numClasses: 10 },
      teacher: { spec: 'mlp-small', epochs: 10, learningRate: 0.005 },
      http: { enabled: false },
      telemetryMs: 0,
    }),
  );
  // Start the agent once, in-process, so the data directory holds its trained teacher.
  const agent = await Agent.start(loadAgentConfig(configFile));
  try {
    expected = agent.predict(test.x.subarray(0, rows.length * 64)).predictions;
  } finally {
    await agent.stop();
  }
  writeJsonl(join(tmp, 'inputs', 'labeled.jsonl'), test, rows);
  writeFileSync(join(tmp, 'inputs', 'plain.csv'), rows.slice(0, 3).map((r) => Array.from(test.x.subarray(r * 64, (r + 1) * 64)).join(',')).join('\n') + '\n');
  writeFileSync(join(tmp, 'inputs', 'short.csv'), '1,2,3\n');
}, 60_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('distillery agent', () => {
  it('predict prints one line per sample, as the agent predicts, with accuracy against the labels', async () => {
    const r = await cli(['agent', 'predict', 'inputs/labeled.jsonl', '--config', configFile]);
    expect(r.stderr).toMatch(/^12 predictions by the local teacher \(float; no student published yet\), accuracy \d+\.\d\d% against the file's labels\n$/);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    lines.forEach((line, i) => {
      const [index, label, p, exp] = line.split('\t');
      expect(index).toBe(String(i));
      expect(Number(label)).toBe(expected[i].label);
      expect(Math.abs(Number(p) - expected[i].probabilities[expected[i].label])).toBeLessThan(1e-3);
      expect(exp).toBe(`(expected ${test.y[i]})`);
    });
    const correct = expected.filter((p, i) => p.label === test.y[i]).length;
    expect(r.stderr).toContain(`accuracy ${((correct / 12) * 100).toFixed(2)}%`);
  }, 40_000);

  it('predict --json on a CSV without labels prints JSON objects without "expected"', async () => {
    const r = await cli(['agent', 'predict', join(tmp, 'inputs', 'plain.csv'), '--config', configFile, '--json']);
    expect(r.code).toBe(0);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(out.map((o) => Object.keys(o))).toEqual([0, 1, 2].map(() => ['index', 'label', 'probability']));
    expect(out.map((o) => o.label)).toEqual(expected.slice(0, 3).map((p) => p.label));
    expect(r.stderr).toMatch(/^3 predictions by the local teacher \(float; no student published yet\)\n$/);
  }, 40_000);

  it('exits 2 with one clear line for a missing config, a config without data.sampleShape, a missing teacher model, a bad input file and no teacher yet', async () => {
    const noShape = join(tmp, 'no-shape.json');
    writeFileSync(noShape, JSON.stringify({ dataDir: './state', data: { dir: './samples', numClasses: 10 } }));
    const fresh = join(tmp, 'fresh', 'agent.json');
    mkdirSync(join(tmp, 'fresh'), { recursive: true });
    writeFileSync(fresh, JSON.stringify({ dataDir: './state', data: { sampleShape: [8, 8, 1], numClasses: 10 }, teacher: { model: './none' } }));
    const noModel = join(tmp, 'no-model', 'agent.json');
    mkdirSync(join(tmp, 'no-model'), { recursive: true });
    writeFileSync(noModel, JSON.stringify({ dataDir: './state', data: { sampleShape: [8, 8, 1], numClasses: 10 }, teacher: { model: './keras' }, http: { enabled: false } }));
    const missing = join(tmp, 'missing.json');
    const [a, b, c, d, e] = await Promise.all([
      cli(['agent', 'start', '--config', missing]),
      cli(['agent', 'start', '--config', noShape]),
      cli(['agent', 'predict', 'inputs/short.csv', '--config', configFile]),
      cli(['agent', 'predict', 'inputs/plain.csv', '--config', fresh]),
      cli(['agent', 'start', '--config', noModel]),
    ]);
    expect(a).toMatchObject({ code: 2, stdout: '' });
    expect(a.stderr).toBe(`distillery agent: config file ${missing} does not exist\n`);
    expect(b).toMatchObject({ code: 2, stdout: '' });
    expect(b.stderr).toMatch(/^distillery agent: agent\.data\.sampleShape: required, e\.g\. \[28, 28, 1\]/);
    expect(b.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(c).toMatchObject({ code: 2, stdout: '' });
    expect(c.stderr).toMatch(/^distillery agent predict: .*inputs\/short\.csv: rows have 3 columns; expected 64 features \(or 64 and a label\)\n$/);
    expect(d).toMatchObject({ code: 2, stdout: '' });
    expect(d.stderr).toMatch(/^distillery agent predict: no model yet in .*fresh\/state: start the agent once/);
    expect(e).toMatchObject({ code: 2 });
    expect(e.stderr).toMatch(/^distillery agent: teacher\.model: no model at .*no-model\/keras\/model\.json\n$/);
  }, 40_000);
});
