/**
 * agent.json validation: defaults are filled, relative paths resolve against the config's folder, and
 * every bad field is refused with a ConfigError whose message starts with that field's path.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { ConfigError, loadAgentConfig, parseAgentConfig } from '../../../edge-agent/agent/config.js';

const tmp = mkdtempSync(join(tmpdir(), 'distillery-agent-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = '/srv/agent';
const minimal = () => ({ data: { dir: './samples', sampleShape: [8, 8, 1], numClasses: 10 } });

/** The ConfigError thrown for `raw`; fails the test if it parses. */
function errorOf(raw: unknown): ConfigError {
  try {
    parseAgentConfig(raw, base);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`parsed without error: ${JSON.stringify(raw)}`);
}

describe('parseAgentConfig', () => {
  it('fills every default and resolves relative paths against the base folder', () => {
    const c = parseAgentConfig(minimal(), base);
    expect(c.dataDir).toBe('/srv/agent/agent-data');
    expect(c.keyFile).toBe('/srv/agent/agent-data/agent.key');
    expect(c.data).toEqual({ dir: '/srv/agent/samples', sampleShape: [8, 8, 1], numClasses: 10, idxScale: 255, heldOutFraction: 0.1, seed: 1 });
    expect(c.http).toEqual({ enabled: true, host: '127.0.0.1', port: 7380, maxBodyBytes: 8 * 2 ** 20 });
    expect(c.lifelong).toEqual({ enabled: true, updateEvery: 200, memorySize: 1000, epochs: 2, lwfWeight: 1, learningRate: 1e-3, batchSize: 8 });
    expect(c.teacher).toEqual({ kind: 'train', spec: { kind: 'mlp', hidden: [256, 128] }, epochs: 5, batchSize: 64, learningRate: 1e-3, seed: 1 });
    expect(c.serving).toEqual({ calibrationSamples: 500, rollbackMargin: 0.02 });
    expect(c.queries).toEqual({ memoryBudgetMB: 32, gradients: true });
    expect(c.ingest).toEqual({});
    expect(c.coordinator).toBeUndefined();
    expect(c.telemetryMs).toBe(60_000);
    expect(c.logLevel).toBe('info');
  });

  it('resolves dataDir, keyFile, teacher.model and coordinator.publicKey against the base; absolute paths stay', () => {
    const c = parseAgentConfig(
      {
        dataDir: 'state',
        keyFile: '/etc/distillery/agent.key',
        data: { sampleShape: [30], numClasses: 2 },
        teacher: { model: './keras-model' },
        coordinator: { url: 'wss://coord.example:8443', publicKey: '../keys/coordinator.pub' },
      },
      base,
    );
    expect(c.dataDir).toBe('/srv/agent/state');
    expect(c.keyFile).toBe('/etc/distillery/agent.key');
    // A folder means its model.json; a .json path is taken as it is.
    expect(c.teacher).toEqual({ kind: 'model', path: '/srv/agent/keras-model/model.json' });
    expect(parseAgentConfig({ ...minimal(), teacher: { model: 'm/my.json' } }, base).teacher).toEqual({ kind: 'model', path: '/srv/agent/m/my.json' });
    expect(c.coordinator).toEqual({ url: 'wss://coord.example:8443', publicKey: '/srv/keys/coordinator.pub', fleet: 'default', backoff: { initialMs: 500, maxMs: 30_000 }, requestTimeoutMs: 30_000 });
    // No data.dir: fine with a model of one's own.
    expect(c.data.dir).toBeUndefined();
  });

  it('takes the teacher training augmentation and BN recalibration of a scenario', () => {
    const c = parseAgentConfig({ ...minimal(), teacher: { augment: { noise: 0.1, shift: 2 }, recalibrateBn: true } }, base);
    expect(c.teacher).toEqual({ kind: 'train', spec: { kind: 'mlp', hidden: [256, 128] }, epochs: 5, batchSize: 64, learningRate: 1e-3, seed: 1, augment: { noise: 0.1, shift: 2 }, recalibrateBn: true });
  });

  it('a teacher spec file resolves against the config folder, not the working directory', () => {
    writeFileSync(join(tmp, 'teacher-spec.json'), JSON.stringify({ kind: 'mlp', hidden: [7] }));
    const c = parseAgentConfig({ ...minimal(), teacher: { spec: 'teacher-spec.json' } }, tmp);
    expect(c.teacher).toMatchObject({ kind: 'train', spec: { kind: 'mlp', hidden: [7] } });
  });

  it('makes a black-box device with queries.gradients false, and names a non-boolean', () => {
    expect(parseAgentConfig({ ...minimal(), queries: { gradients: false } }, base).queries).toEqual({ memoryBudgetMB: 32, gradients: false });
    expect(errorOf({ ...minimal(), queries: { gradients: 'no' } }).message).toMatch(/queries\.gradients: must be true or false, got "no"/);
  });

  it('takes an MQTT ingest topic and rejects a wildcard', () => {
    const c = parseAgentConfig({ ...minimal(), ingest: { mqtt: { url: 'mqtt://127.0.0.1:1883' } } }, base);
    expect(c.ingest.mqtt).toEqual({ url: 'mqtt://127.0.0.1:1883', topic: 'distillery/local/samples' });
    for (const topic of ['sensors/#', 'sensors/+/x']) {
      const e = errorOf({ ...minimal(), ingest: { mqtt: { url: 'mqtt://127.0.0.1:1883', topic } } });
      expect(e.message).toMatch(/^agent\.ingest\.mqtt\.topic: must be a plain topic without wildcards/);
      expect(e.message).toContain(topic);
    }
  });

  const bad: [string, () => unknown, RegExp][] = [
    ['missing data.sampleShape', () => ({ data: { dir: 'd', numClasses: 10 } }), /^agent\.data\.sampleShape: required/],
    ['no data section at all', () => ({}), /^agent\.data\.sampleShape: required/],
    ['sampleShape not integers', () => ({ data: { dir: 'd', sampleShape: [8, 8.5], numClasses: 10 } }), /^agent\.data\.sampleShape: must be 1 to 3 positive integers, got \[8,8\.5\]/],
    ['sampleShape of rank 4', () => ({ data: { dir: 'd', sampleShape: [1, 2, 3, 4], numClasses: 10 } }), /^agent\.data\.sampleShape: must be 1 to 3/],
    ['sampleShape empty', () => ({ data: { dir: 'd', sampleShape: [], numClasses: 10 } }), /^agent\.data\.sampleShape: must be 1 to 3/],
    ['sampleShape a string', () => ({ data: { dir: 'd', sampleShape: '28x28', numClasses: 10 } }), /^agent\.data\.sampleShape: must be 1 to 3 positive integers, got "28x28"/],
    ['numClasses missing', () => ({ data: { dir: 'd', sampleShape: [4] } }), /^agent\.data\.numClasses: required/],
    ['numClasses 1', () => ({ data: { dir: 'd', sampleShape: [4], numClasses: 1 } }), /^agent\.data\.numClasses: must be an integer in 2\.\.1000, got 1$/],
    ['unknown top-level key', () => ({ ...minimal(), foo: 1 }), /^agent\.foo: unknown option; valid: dataDir, keyFile/],
    ['unknown nested key', () => ({ data: { ...minimal().data, labels: 3 } }), /^agent\.data\.labels: unknown option/],
    ['teacher with spec and model', () => ({ ...minimal(), teacher: { spec: 'mlp', model: './m' } }), /^agent\.teacher: give either "spec" \(train locally\) or "model"/],
    ['unknown teacher preset', () => ({ ...minimal(), teacher: { spec: 'resnet9000' } }), /^agent\.teacher\.spec: "resnet9000" is neither a preset \(mlp-small, mlp/],
    ['invalid inline teacher spec', () => ({ ...minimal(), teacher: { spec: { kind: 'mlp', hidden: [0] } } }), /^agent\.teacher\.spec\.hidden\[0\]: must be a positive integer, got 0/],
    ['teacher epochs 0', () => ({ ...minimal(), teacher: { epochs: 0 } }), /^agent\.teacher\.epochs: must be an integer in 1\.\.10000, got 0/],
    ['teacher augment noise 2', () => ({ ...minimal(), teacher: { augment: { noise: 2 } } }), /^agent\.teacher\.augment\.noise: must be a number in 0\.\.1, got 2/],
    ['teacher recalibrateBn "on"', () => ({ ...minimal(), teacher: { recalibrateBn: 'on' } }), /^agent\.teacher\.recalibrateBn: must be true or false, got "on"/],
    ['teacher outliers without recalibrateBn', () => ({ ...minimal(), teacher: { augment: { outliers: 0.5 } } }), /^agent\.teacher\.augment\.outliers: needs agent\.teacher\.recalibrateBn: true/],
    ['coordinator url http://', () => ({ ...minimal(), coordinator: { url: 'http://x', publicKey: 'c.pub' } }), /^agent\.coordinator\.url: must be a ws:\/\/, wss:\/\/, mqtt:\/\/ or mqtts:\/\/ URL, got "http:\/\/x"/],
    ['coordinator url missing', () => ({ ...minimal(), coordinator: { publicKey: 'c.pub' } }), /^agent\.coordinator\.url: /],
    ['coordinator without publicKey', () => ({ ...minimal(), coordinator: { url: 'ws://127.0.0.1:7000' } }), /^agent\.coordinator\.publicKey: required/],
    ['coordinator fleet with a slash', () => ({ ...minimal(), coordinator: { url: 'ws://h:1', publicKey: 'c.pub', fleet: 'a/b' } }), /^agent\.coordinator\.fleet: must be a non-empty string matching/],
    ['backoff maxMs < initialMs', () => ({ ...minimal(), coordinator: { url: 'ws://h:1', publicKey: 'c.pub', backoff: { initialMs: 1000, maxMs: 999 } } }), /^agent\.coordinator\.backoff\.maxMs: must be >= initialMs \(1000\), got 999/],
    ['mqtt ingest url http', () => ({ ...minimal(), ingest: { mqtt: { url: 'http://broker' } } }), /^agent\.ingest\.mqtt\.url: must be a broker URL/],
    ['http.port 70000', () => ({ ...minimal(), http: { port: 70000 } }), /^agent\.http\.port: must be an integer in 0\.\.65535, got 70000/],
    ['http.port a string', () => ({ ...minimal(), http: { port: '80' } }), /^agent\.http\.port: must be an integer in 0\.\.65535, got "80"/],
    ['http.enabled "yes"', () => ({ ...minimal(), http: { enabled: 'yes' } }), /^agent\.http\.enabled: must be true or false/],
    ['heldOutFraction 0.9', () => ({ data: { ...minimal().data, heldOutFraction: 0.9 } }), /^agent\.data\.heldOutFraction: must be a number in 0\.\.0\.5, got 0\.9/],
    ['logLevel trace', () => ({ ...minimal(), logLevel: 'trace' }), /^agent\.logLevel: must be one of debug, info, warn, error, got "trace"/],
    ['data.dir missing when the teacher trains', () => ({ data: { sampleShape: [4], numClasses: 3 } }), /^agent\.data\.dir: required to train the local teacher/],
    ['data.dir missing with an explicit spec', () => ({ data: { sampleShape: [4], numClasses: 3 }, teacher: { spec: 'mlp-small' } }), /^agent\.data\.dir: required/],
    ['a section that is not an object', () => ({ ...minimal(), http: [] }), /^agent\.http: must be an object, got \[\]/],
  ];
  for (const [name, raw, message] of bad) {
    it(`refuses ${name}, naming the field`, () => {
      expect(errorOf(raw()).message).toMatch(message);
    });
  }
});

describe('loadAgentConfig', () => {
  it('reads a file and resolves paths against its folder', () => {
    const file = join(tmp, 'agent.json');
    writeFileSync(file, JSON.stringify({ dataDir: 'state', ...minimal() }));
    const c = loadAgentConfig(file);
    expect(c.dataDir).toBe(resolve(tmp, 'state'));
    expect(c.data.dir).toBe(resolve(tmp, 'samples'));
  });

  it('names a missing file', () => {
    const file = join(tmp, 'nope', 'agent.json');
    expect(() => loadAgentConfig(file)).toThrow(ConfigError);
    expect(() => loadAgentConfig(file)).toThrow(`config file ${file} does not exist`);
  });

  it('names the file and says the JSON is invalid', () => {
    const file = join(tmp, 'broken.json');
    writeFileSync(file, '{"data": {"sampleShape": [4],');
    expect(() => loadAgentConfig(file)).toThrow(ConfigError);
    expect(() => loadAgentConfig(file)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
  });

  it('refuses a file holding something other than an object', () => {
    const file = join(tmp, 'list.json');
    writeFileSync(file, '[1, 2]');
    expect(() => loadAgentConfig(file)).toThrow(/list\.json: must hold a JSON object, got \[1,2\]/);
  });
});
