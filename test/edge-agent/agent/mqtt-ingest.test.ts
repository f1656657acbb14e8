/**
 * Ingest over a local MQTT topic: an offline agent subscribed to an embedded broker stores single samples
 * and {"samples": [...]} batches published there, and refuses bad messages (a label out of range, a batch
 * with one bad sample, invalid JSON) with the reason on `<topic>/rejected`, storing nothing from them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../../shared/compute/backend.js';
import { loadDataset } from '../../../shared/data/registry.js';
import type { Dataset } from '../../../shared/data/dataset.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../shared/transport/mqtt-broker.js';
import { agentFixture, memoryLog, waitUntil, Agent } from './fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'distillery-agent-mqtt-'));
const topic = 'site-7/line-2/samples';
let broker: EmbeddedBroker;
let agent: Agent;
let client: mqtt.MqttClient;
let train: Dataset;
const rejected: { error: string }[] = [];
const log = memoryLog();

const sample = (row: number) => ({ x: Array.from(train.x.subarray(row * 64, (row + 1) * 64)), y: train.y[row] });
const publish = (payload: string) => client.publishAsync(topic, payload, { qos: 1 });
const fileSize = (f: string) => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};

beforeAll(async () => {
  await initBackend(() => {});
  ({ train } = loadDataset('digits', { splitSeed: 1 }));
  broker = await startEmbeddedBroker({ port: 0 });
  const fx = await agentFixture(tmp, train, 200, {
    ingest: { mqtt: { url: broker.url, topic } },
    http: { enabled: false },
    teacher: { spec: 'mlp-small', epochs: 2 },
    lifelong: { enabled: false },
  });
  agent = await Agent.start(fx.config, { log });
  client = await mqtt.connectAsync(broker.url, { clientId: 'ingest-test-sensor' });
  client.on('message', (t, payload) => {
    if (t === `${topic}/rejected`) rejected.push(JSON.parse(payload.toString('utf8')));
  });
  await client.subscribeAsync(`${topic}/rejected`, { qos: 1 });
  // The agent subscribes once its client connects, after start returns.
  await waitUntil(() => log.events.some((e) => e.msg === 'ingesting from MQTT'), 10_000, 'the agent to subscribe');
}, 60_000);

afterAll(async () => {
  await client?.endAsync();
  await agent?.stop();
  await broker?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('MQTT ingest', () => {
  it('stores a single sample and a batch published on the topic', async () => {
    expect(agent.samples.size).toBe(200);
    await publish(JSON.stringify(sample(300)));
    await waitUntil(() => agent.samples.size === 201, 10_000, 'one sample ingested');
    await publish(JSON.stringify({ samples: [sample(301), sample(302), sample(303)] }));
    await waitUntil(() => agent.samples.size === 204, 10_000, 'a batch ingested');
    expect(agent.samples.pending).toBe(4);
    // Stored durably, exactly as sent.
    const lines = readFileSync(agent.samples.ingestFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.y)).toEqual([300, 301, 302, 303].map((r) => train.y[r]));
    expect(lines[1].x).toEqual(Array.from(train.x.subarray(301 * 64, 302 * 64)));
    expect(log.events.filter((e) => e.msg === 'samples ingested').map((e) => e.fields)).toEqual([
      { via: 'mqtt', accepted: 1, total: 201 },
      { via: 'mqtt', accepted: 3, total: 204 },
    ]);
    expect(rejected).toEqual([]);
  });

  it('refuses bad messages on <topic>/rejected and stores nothing from them', async () => {
    const before = { size: agent.samples.size, bytes: fileSize(agent.samples.ingestFile) };
    const cases: [string, RegExp][] = [
      [JSON.stringify({ x: Array(64).fill(0), y: 10 }), /^sample 0: label 10 is not an integer class in 0\.\.9$/],
      [JSON.stringify({ samples: [sample(310), { x: Array(63).fill(0), y: 1 }] }), /^sample 1: x has 63 values, expected 64/],
      ['{"x": [0, 0,', /^message is not valid JSON/],
      [JSON.stringify({ samples: [] }), /^samples: must be a non-empty array/],
    ];
    for (const [i, [payload, reason]] of cases.entries()) {
      await publish(payload);
      await waitUntil(() => rejected.length === i + 1, 10_000, `rejection ${i + 1}`);
      expect(rejected[i].error).toMatch(reason);
    }
    expect({ size: agent.samples.size, bytes: fileSize(agent.samples.ingestFile) }).toEqual(before);
    expect(log.events.filter((e) => e.msg === 'ingest message rejected')).toHaveLength(cases.length);
    // The agent keeps ingesting after refusals.
    await publish(JSON.stringify(sample(311)));
    await waitUntil(() => agent.samples.size === before.size + 1, 10_000, 'ingest after refusals');
  });
});
