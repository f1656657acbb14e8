/**
 * `distillery-agent start` as a device runs it: the bundled entry point (or tsx when no bundle was built)
 * trains the teacher in a child process that exits, then the daemon serves, and SIGTERM stops it cleanly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { loadDataset } from '../../../shared/data/registry.js';
import { spawnJson, type JsonProcess } from '../../e2e/helpers/processes.js';
import { writeJsonl } from './fixture.js';

const root = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'distillery-agent-daemon-'));
let daemon: JsonProcess | undefined;

afterAll(async () => {
  daemon?.kill('SIGKILL');
  await daemon?.exited;
  rmSync(tmp, { recursive: true, force: true });
});

describe('distillery-agent start', () => {
  it('trains its teacher in a child process, serves, and stops on SIGTERM', async () => {
    const { train, test } = loadDataset('digits', { splitSeed: 1 });
    writeJsonl(join(tmp, 'samples', 'local.jsonl'), train, Array.from({ length: 300 }, (_, i) => i));
    const configFile = join(tmp, 'agent.json');
    writeFileSync(configFile, JSON.stringify({ dataDir: './state', data: { dir: './samples', sampleShape: [8, 8, 1], numClasses: 10 }, teacher: { spec: 'mlp-small', epochs: 5 }, http: { port: 0 }, telemetryMs: 0 }));
    daemon = spawnJson('agent', [join(root, 'bin', 'distillery-agent.js'), 'start', '--config', configFile], {}, tmp);
    const trained = await daemon.waitFor((e) => e.msg === 'teacher ready', 60_000, 'the training child');
    const ready = await daemon.waitFor((e) => e.msg === 'agent ready', 30_000, 'the daemon');
    expect(trained.pid).not.toBe(ready.pid); // trained elsewhere: the daemon never held training's memory
    expect(trained).toMatchObject({ component: 'agent-train', origin: 'trained' });
    expect(daemon.events.some((e) => e.msg === 'teacher trained' && e.pid === ready.pid)).toBe(false);
    const r = await fetch(`${ready.http}/predict`, { method: 'POST', body: JSON.stringify({ x: Array.from(test.x.subarray(0, 64)) }) });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ predictions: [{ label: expect.any(Number) }], model: { kind: 'teacher' } });
    daemon.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  }, 120_000);
});
