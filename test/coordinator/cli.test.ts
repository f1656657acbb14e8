/**
 * `distillery coordinator start` as an operator runs it: no config means embedded defaults (ws on loopback,
 * embedded MQTT, ./distillery-data), a bad config fails at once with the field named, and SIGTERM shuts
 * down cleanly with exit code 0, even when it arrives before start-up has finished.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnJson } from '../e2e/helpers/processes.js';

const BIN = new URL('../../bin/distillery.js', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'distillery-coordinator-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp, timeout: 60_000 });

describe('distillery coordinator', () => {
  it('is listed, and refuses a missing action or a bad config with the field named (exit 2)', () => {
    expect(run(['--help']).stdout).toMatch(/^ {2}coordinator +run the coordinator service/m);
    const none = run(['coordinator']);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/distillery coordinator: expected "start", got "\(nothing\)"/);
    const file = join(tmp, 'bad.json');
    writeFileSync(file, JSON.stringify({ ws: { port: 70000 } }));
    const bad = run(['coordinator', 'start', '--config', file]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('distillery coordinator: coordinator.ws.port: must be an integer in 0..65535, got 70000');
    writeFileSync(file, JSON.stringify({ job: { scenario: 'nope.json' } }));
    expect(run(['coordinator', 'start', '--config', file]).stderr).toMatch(/coordinator\.job\.scenario: scenario file .*nope\.json does not exist/);
  });

  it('starts on embedded defaults with no config, creates its key (0600), and stops cleanly on SIGTERM', async () => {
    const p = spawnJson('coordinator', [BIN, 'coordinator', 'start'], {}, tmp);
    try {
      const started = await p.waitFor((e) => e.msg === 'coordinator started', 30_000, 'start-up');
      expect(started).toMatchObject({ ws: 'ws://127.0.0.1:7370/distillery', mqtt: 'mqtt://127.0.0.1:7371', fleet: 'default', dataDir: join(tmp, 'distillery-data') });
      const key = join(tmp, 'distillery-data', 'coordinator.key');
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(join(tmp, 'distillery-data', 'endpoints.json'), 'utf8'))).toMatchObject({ coordinatorId: started.coordinatorId, pid: p.proc.pid });
      expect(existsSync(join(tmp, 'distillery-data', 'fleet.db'))).toBe(true);
      p.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.events.map((e) => e.msg)).toEqual(expect.arrayContaining(['coordinator stopping', 'coordinator stopped']));
      expect(existsSync(join(tmp, 'distillery-data', 'endpoints.json'))).toBe(false);
    } finally {
      p.kill('SIGKILL');
    }
  });

  it('stops cleanly on a SIGTERM that arrives during start-up', async () => {
    const dir = join(tmp, 'early');
    const config = join(tmp, 'early.json');
    writeFileSync(config, JSON.stringify({ dataDir: dir, ws: { port: 0 }, mqtt: { port: 0 }, http: { port: 0 } }));
    const p = spawnJson('coordinator', [BIN, 'coordinator', 'start', '--config', config], {}, tmp);
    try {
      // The first line of a fresh start, logged before anything listens.
      await p.waitFor((e) => e.msg === 'coordinator key created', 30_000, 'the key to be created');
      p.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(p.events.map((e) => e.msg)).toEqual(expect.arrayContaining(['coordinator started', 'coordinator stopping', 'coordinator stopped']));
      expect(existsSync(join(dir, 'endpoints.json'))).toBe(false);
    } finally {
      p.kill('SIGKILL');
    }
  });
});
