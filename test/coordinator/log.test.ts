/**
 * The coordinator's structured logs (pino behind the StructuredLogger interface): JSON lines with level
 * labels, `msg`, fields and child bindings, the configured level honoured, errors reduced to their
 * message; and written synchronously, so a process killed right after logging has still written the line.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { jsonLogger, quietLogger } from '../../shared/log.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function capture(level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const log = jsonLogger({ level, write: (line) => lines.push(line) });
  return { log, lines, events: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('coordinator logs', () => {
  it('writes one JSON object per line with the level label, time, msg and fields', () => {
    const { log, lines, events } = capture();
    const before = Date.now();
    log.info('round done', { round: 3, accuracy: 0.91, participation: [{ device: 'a', answered: 6 }] });
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('}\n')).toBe(true);
    const [e] = events();
    expect(e).toMatchObject({ level: 'info', msg: 'round done', round: 3, accuracy: 0.91, participation: [{ device: 'a', answered: 6 }], pid: process.pid });
    expect(e.time).toBeGreaterThanOrEqual(before);
    expect(e.time).toBeLessThanOrEqual(Date.now());
  });

  it('honours the level: info drops debug, warn drops info, debug keeps all', () => {
    const logged = (level: 'debug' | 'info' | 'warn' | 'error') => {
      const { log, events } = capture(level);
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      return events().map((e) => `${e.level}:${e.msg}`);
    };
    expect(logged('debug')).toEqual(['debug:d', 'info:i', 'warn:w', 'error:e']);
    expect(logged('info')).toEqual(['info:i', 'warn:w', 'error:e']);
    expect(logged('warn')).toEqual(['warn:w', 'error:e']);
    expect(logged('error')).toEqual(['error:e']);
    expect(capture().events()).toEqual([]);
  });

  it('adds child bindings to every line, nested children included', () => {
    const { log, events } = capture('debug');
    const fleet = log.child({ component: 'fleet' });
    fleet.warn('device dropped', { device: 'abc' });
    fleet.child({ device: 'abc' }).debug('probe');
    log.info('parent');
    expect(events()).toEqual([
      expect.objectContaining({ level: 'warn', component: 'fleet', device: 'abc', msg: 'device dropped' }),
      expect.objectContaining({ level: 'debug', component: 'fleet', device: 'abc', msg: 'probe' }),
      expect.not.objectContaining({ component: 'fleet' }),
    ]);
  });

  it('reduces errors to their message and bigints to numbers, at any depth', () => {
    const { log, events } = capture();
    log.error('job loop failed', { error: new Error('boom'), bytes: 12n, nested: { causes: [new TypeError('deep')] } });
    expect(events()[0]).toMatchObject({ error: 'boom', bytes: 12, nested: { causes: ['deep'] } });
  });

  it('quietLogger and its children drop everything', () => {
    expect(() => quietLogger.child({ a: 1 }).error('x', { y: 2 })).not.toThrow();
  });

  it('writes synchronously to stdout: a line logged right before SIGKILL is not lost', () => {
    const script = [
      "import { jsonLogger } from './shared/log.ts';",
      "const log = jsonLogger({ level: 'debug' });",
      "for (let i = 0; i < 200; i++) log.debug('step', { i, pad: 'x'.repeat(200) });",
      "log.info('last words');",
      "process.kill(process.pid, 'SIGKILL');",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.signal).toBe('SIGKILL');
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toHaveLength(201);
    expect(events[200]).toMatchObject({ level: 'info', msg: 'last words' });
  });
});
