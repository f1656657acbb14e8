/**
 * coordinator.json: embedded defaults with no file, every bad value refused with its field named, relative
 * paths resolved against the file's folder, and the job resolved (scenario + overrides) before start-up.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DEFAULT_SCENARIO, loadCoordinatorConfig, parseCoordinatorConfig } from '../../coordinator/config.js';
import { quorumCount, resolveJob } from '../../coordinator/job.js';

describe('coordinator config', () => {
  it('starts from embedded defaults: ws on loopback, embedded MQTT, ./distillery-data, the digits job', () => {
    const c = loadCoordinatorConfig();
    expect(c.dataDir).toBe(join(process.cwd(), 'distillery-data'));
    expect(c.keyFile).toBe(join(process.cwd(), 'distillery-data', 'coordinator.key'));
    expect(c.ws).toEqual({ enabled: true, host: '127.0.0.1', port: 7370, path: '/distillery', heartbeatMs: 15_000 });
    expect(c.mqtt).toEqual({ enabled: true, host: '127.0.0.1', port: 7371 }); // no url: embedded aedes
    expect(c.http).toEqual({ enabled: true, host: '127.0.0.1', port: 7372 });
    expect(c.job).toMatchObject({ scenario: DEFAULT_SCENARIO, seed: 1, minDevices: 1, quorum: 0.6, replyDtype: 'float32' });
    expect(c.enrollment).toEqual({ preapproved: [], autoApprove: false, maxPending: 1000 });
  });

  it('takes an external broker URL and resolves paths against the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'distillery-config-'));
    const file = join(dir, 'coordinator.json');
    writeFileSync(file, JSON.stringify({ dataDir: 'state', mqtt: { url: 'mqtt://127.0.0.1:1883' }, enrollment: { preapproved: ['keys/a.pub'] }, job: { student: 'mlp-small', evaluation: false } }));
    const c = loadCoordinatorConfig(file);
    expect(c.dataDir).toBe(join(dir, 'state'));
    expect(c.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(c.enrollment.preapproved).toEqual([join(dir, 'keys/a.pub')]);
  });

  it.each([
    [{ ws: { port: 70000 } }, /^coordinator\.ws\.port: must be an integer in 0\.\.65535, got 70000/],
    [{ ws: { port: '80' } }, /^coordinator\.ws\.port: must be an integer/],
    [{ wss: {} }, /^coordinator\.wss: unknown option; valid: dataDir, fleet/],
    [{ mqtt: { url: 'localhost:1883' } }, /^coordinator\.mqtt\.url: must be a broker URL like mqtt:\/\/127\.0\.0\.1:1883, got "localhost:1883"/],
    [{ fleet: 'a/b' }, /^coordinator\.fleet: must be a non-empty string matching/],
    [{ enrollment: { preapproved: 'a.pub' } }, /^coordinator\.enrollment\.preapproved: must be a list of \.pub file paths/],
    [{ job: { student: 'cnn', quorum: 1.5 } }, /^coordinator\.job\.quorum: must be a fraction in \(0, 1\) or a whole count >= 1, got 1\.5/],
    [{ job: { student: 'cnn', replyDtype: 'int8' } }, /^coordinator\.job\.replyDtype: must be one of float32, float16, got "int8"/],
    [{ job: { seed: 2 } }, /^coordinator\.job: give a "scenario" file or a "student" spec/],
    [{ ws: { enabled: false }, mqtt: { enabled: false } }, /^coordinator: enable at least one of ws and mqtt/],
    [{ logLevel: 'verbose' }, /^coordinator\.logLevel: must be one of debug, info, warn, error/],
    [[], /^coordinator: must be an object, got \[\]/],
  ])('refuses %j naming the field', (raw, message) => {
    expect(() => parseCoordinatorConfig(raw)).toThrow(message);
  });

  it('reports an unreadable file and bad JSON with the file name', () => {
    expect(() => loadCoordinatorConfig('/nonexistent/coordinator.json')).toThrow(/config file \/nonexistent\/coordinator\.json does not exist/);
    const file = join(mkdtempSync(join(tmpdir(), 'distillery-config-')), 'bad.json');
    writeFileSync(file, '{"ws": ');
    expect(() => loadCoordinatorConfig(file)).toThrow(/bad\.json: not valid JSON/);
  });
});

describe('coordinator job', () => {
  it('merges distill overrides over the scenario field by field and evaluates on its split for the seed', () => {
    const job = resolveJob(parseCoordinatorConfig({ job: { scenario: DEFAULT_SCENARIO, seed: 3, distill: { rounds: 2, device: { bn: 1 } } } }).job);
    expect(job.name).toBe('digits-dir0.5');
    expect(job.distill).toMatchObject({ rounds: 2, generatorSteps: 10, studentSteps: 150, device: { ce: 1, bn: 1, adv: 0.5 } });
    expect(job.evaluation).toEqual({ dataset: 'digits', splitSeed: 3 });
    expect(job.studentSpec).toEqual({ kind: 'cnn', conv: [16, 32], dense: [64] });
  });

  it.each([
    [{ scenario: DEFAULT_SCENARIO, distill: { tau: 0 } }, /^coordinator\.job\.distill\.tau: must be a number > 0/],
    [{ scenario: DEFAULT_SCENARIO, distill: { roundz: 3 } }, /^coordinator\.job\.distill\.roundz: unknown setting/],
    [{ scenario: '/nope.json' }, /^coordinator\.job\.scenario: scenario file \/nope\.json does not exist/],
    [{ student: { kind: 'cnn', conv: [-1] } }, /^coordinator\.job\.student/],
    [{ student: 'mlp', evaluation: { dataset: 'imagenet' } }, /^coordinator\.job\.evaluation\.dataset: unknown dataset "imagenet"; use one of/],
  ])('refuses job %j naming the field', (job, message) => {
    expect(() => resolveJob(parseCoordinatorConfig({ job }).job)).toThrow(message);
  });

  it('turns a quorum fraction into a device count, at least one and at most all', () => {
    expect(quorumCount(0.6, 5)).toBe(3);
    expect(quorumCount(0.01, 5)).toBe(1);
    expect(quorumCount(4, 5)).toBe(4);
    expect(quorumCount(9, 5)).toBe(5);
  });
});
