/**
 * The edge agent against a scripted coordinator (in-memory network, real keys and channels): enrollment
 * with its label histogram, teacher queries answered, only protocol messages leave the device, signed
 * publications verified, quantized to int8 and swapped in, bad ones refused with the old model serving,
 * rollback on a local accuracy drop, a restart that restores state, and the local HTTP API's 4xx answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../../shared/compute/backend.js';
import { loadDataset } from '../../../shared/data/registry.js';
import { subset, type Dataset } from '../../../shared/data/dataset.js';
import { buildModel } from '../../../shared/models/build.js';
import { fit, accuracyOf } from '../../../shared/train/fit.js';
import { packValue } from '../../../shared/protocol/msgpack.js';
import { RemoteTeacherPort } from '../../../coordinator/remote-teacher.js';
import { agentFixture, memoryLog, scriptedCoordinator, waitUntil, Agent, type Coordinator } from './fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'distillery-agent-'));
let train: Dataset;
let test: Dataset;
let coordinator: Coordinator;
let agent: Agent;
let agentId: string;
let good: tf.LayersModel;
let local: Dataset;
const log = memoryLog();

beforeAll(async () => {
  await initBackend(() => {});
  ({ train, test } = loadDataset('digits', { splitSeed: 1 }));
  const fx = await agentFixture(tmp, train, 600);
  local = fx.local;
  coordinator = await scriptedCoordinator(tmp, fx.agentPubFile);
  const config = { ...fx.config, coordinator: { url: 'ws://in-memory', publicKey: coordinator.pubFile, fleet: 'test', backoff: { initialMs: 20, maxMs: 200 }, requestTimeoutMs: 10_000 } };
  agent = await Agent.start(config, { log, connect: (identity) => coordinator.connect(identity.id) });
  agentId = agent.identity.id;
  // A student "from the coordinator": trained centrally here, only to have a good model to publish.
  good = buildModel({ kind: 'mlp', hidden: [64] }, { inputShape: train.sampleShape, numClasses: 10, seed: 3 });
  await fit(good, train, { epochs: 15, learningRate: 0.005, seed: 3 });
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('edge agent', () => {
  it('enrolls and reports its label histogram, then answers logits and gradient queries', async () => {
    await waitUntil(() => coordinator.received.some((m) => m.type === 'capabilities.report'), 20_000, 'capabilities.report');
    const caps = coordinator.received.find((m) => m.type === 'capabilities.report')!;
    expect(caps.body).toMatchObject({ numClasses: 10, inputShape: [8, 8, 1], gradients: true });
    expect((caps.body as { labelHistogram: number[] }).labelHistogram).toEqual(agent.samples.histogram());
    const port = new RemoteTeacherPort({ transport: coordinator.hub, deviceId: agentId, timeoutMs: 10_000 });
    const x = subset(test, [0, 1, 2, 3]).x;
    const logits = await port.logits({ inputs: { shape: [4, 8, 8, 1], values: x } });
    expect(logits.logits.shape).toEqual([4, 10]);
    const grad = await port.gradient({ inputs: { shape: [4, 8, 8, 1], values: x }, targets: Int32Array.from([0, 1, 2, 3]), weights: { ce: 1, bn: 0, adv: 0 } });
    expect(grad.inputGradient.shape).toEqual([4, 8, 8, 1]);
    expect(Array.from(grad.inputGradient.values).some((v) => v !== 0)).toBe(true);
  });

  it('activates a signed student as int8, refuses bad signatures, malformed models and regressions', async () => {
    const v1 = await coordinator.sign(good, join(tmp, 'v1'), 'digits', 1);
    const ack = await coordinator.publish(v1);
    expect(ack.type).toBe('model.ack');
    expect(agent.serving.active).toMatchObject({ kind: 'int8', modelId: 'digits', version: 1 });
    const acc1 = agent.serving.active.heldOutAccuracy!;
    expect(acc1).toBeGreaterThan(0.7);
    // Served int8 agrees with the float student on most test samples.
    const floatLabels = (good.predict(tf.tensor(test.x.subarray(0, 200 * 64), [200, 8, 8, 1])) as tf.Tensor).argMax(-1).dataSync();
    const served = agent.predict(test.x.subarray(0, 200 * 64)).predictions.map((p) => p.label);
    expect(served.filter((l, i) => l === floatLabels[i]).length).toBeGreaterThan(190);

    // A bad signature: one byte of one weight changed after signing.
    const tampered = await coordinator.sign(good, join(tmp, 'v2'), 'digits', 2);
    tampered.tensors[0].tensor.data[5] ^= 1;
    const r2 = await coordinator.publish(tampered);
    // The secure channel already refuses it on receipt; the serving slot checks again (stored models too).
    expect(r2).toMatchObject({ type: 'error', body: { code: 'bad_model_signature' } });
    await expect(agent.serving.accept(tampered, { calibration: test.x.slice(0, 50 * 64), heldOut: test, margin: 0.02 })).rejects.toMatchObject({ code: 'bad_signature' });
    // Malformed but validly signed: a topology that is not JSON.
    const broken = await coordinator.sign(good, join(tmp, 'v3'), 'digits', 3);
    const { signModel } = await import('../../../shared/security/model-signature.js');
    const { signature: _, ...content } = broken;
    const malformed = signModel({ ...content, topology: new TextEncoder().encode('{"not": a model') }, coordinator.identity.sign.secretKey);
    const r3 = await coordinator.publish(malformed);
    expect(r3).toMatchObject({ type: 'error', body: { code: 'malformed_model' } });
    // A regression: an untrained student scores far below v1 on the local held-out slice.
    const untrained = buildModel({ kind: 'mlp', hidden: [64] }, { inputShape: train.sampleShape, numClasses: 10, seed: 9 });
    const r4 = await coordinator.publish(await coordinator.sign(untrained, join(tmp, 'v4'), 'digits', 4));
    expect(r4).toMatchObject({ type: 'error', body: { code: 'accuracy_regression' } });
    expect((r4.body as { reason: string }).reason).toMatch(/v1 keeps serving/);
    // Through all of it, v1 kept serving.
    expect(agent.serving.active).toMatchObject({ kind: 'int8', version: 1 });
    expect(agent.serving.history.map((h) => h.outcome)).toEqual(['activated', 'refused', 'refused', 'refused']); // bad signature (slot), malformed, regression
  });

  it('sends nothing but protocol messages, and never a local sample or the teacher weights', async () => {
    const allowed = new Set(['enroll.request', 'capabilities.report', 'round.reply', 'gradient.reply', 'model.ack', 'error', 'health.pong', 'telemetry.report']);
    expect(coordinator.received.length).toBeGreaterThan(0);
    expect(coordinator.received.filter((m) => m.sender === agentId).map((m) => m.type).filter((t) => !allowed.has(t))).toEqual([]);
    // Every frame the agent's link sent opened as one of those messages at the coordinator.
    expect(coordinator.frames.length).toBe(coordinator.received.length);
    // No 8-value window of any local sample, and no teacher weight tensor, appears in any message body.
    const bodies = Buffer.concat(coordinator.received.map((m) => Buffer.from(packValue(m.body))));
    for (let i = 0; i < local.y.length; i += 7) {
      const row = local.x.subarray(i * 64 + 24, i * 64 + 32); // the middle of the image: never all zeros
      if (row.every((v) => v === 0)) continue;
      expect(bodies.indexOf(Buffer.from(row.buffer, row.byteOffset, row.byteLength))).toBe(-1);
    }
    for (const w of agent.teacher['model'].getWeights()) {
      const v = w.dataSync().slice(0, 8);
      expect(bodies.indexOf(Buffer.from(v.buffer))).toBe(-1);
    }
  });

  it('serves predictions over HTTP and answers bad requests with a 4xx, changing nothing', async () => {
    const url = agent.httpUrl!;
    const post = (path: string, body: string) => fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const ok = await post('/predict', JSON.stringify({ inputs: [Array.from(test.x.subarray(0, 64))] }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ predictions: [{ label: expect.any(Number) }], model: { kind: 'int8', version: 1 } });
    const ingestFile = agent.samples.ingestFile;
    const before = { size: agent.samples.size, bytes: statSize(ingestFile) };
    const cases: [string, string, number, RegExp][] = [
      ['/predict', '{"inputs": [[1, 2', 400, /not valid JSON/],
      ['/predict', JSON.stringify({ inputs: [[1, 2, 3]] }), 400, /x has 3 values, expected 64/],
      ['/predict', JSON.stringify({ inputs: [Array(64).fill('a')] }), 400, /array of numbers/],
      ['/predict', JSON.stringify({ nothing: true }), 400, /inputs/],
      ['/samples', JSON.stringify({ samples: [{ x: Array(64).fill(0), y: 3 }, { x: Array(63).fill(0), y: 1 }] }), 400, /sample 1: x has 63 values/],
      ['/samples', JSON.stringify({ samples: [{ x: Array(64).fill(0), y: 10 }] }), 400, /label 10 is not an integer class in 0..9/],
      ['/samples', JSON.stringify({ samples: [{ x: Array(64).fill(0), y: 1.5 }] }), 400, /label 1.5/],
      ['/samples', 'x'.repeat(9 * 2 ** 20), 413, /exceeds the limit/],
      ['/nowhere', '{}', 404, /no route/],
    ];
    for (const [path, body, status, message] of cases) {
      const r = await post(path, body);
      expect(r.status, `${path} ${body.slice(0, 40)}`).toBe(status);
      expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
    expect({ size: agent.samples.size, bytes: statSize(ingestFile) }).toEqual(before);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('learns new samples without forgetting and tells the coordinator its new histogram', async () => {
    const reports = () => coordinator.received.filter((m) => m.type === 'capabilities.report').length;
    const before = reports();
    const histogram = agent.samples.histogram();
    const rows = Array.from({ length: 200 }, (_, i) => 600 + i);
    const f = 64;
    const samples = rows.map((r) => ({ x: Array.from(train.x.subarray(r * f, (r + 1) * f)), y: train.y[r] }));
    const r = await fetch(`${agent.httpUrl}/samples`, { method: 'POST', body: JSON.stringify({ samples }) });
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ accepted: 200, total: 800 });
    const accBefore = accuracyOf(agent.teacher['model'], test);
    const report = await agent.learn();
    expect(report).toMatchObject({ samples: 200 });
    expect(accuracyOf(agent.teacher['model'], test)).toBeGreaterThan(accBefore - 0.05);
    await waitUntil(() => reports() > before, 10_000, 'a new capabilities.report');
    const latest = coordinator.received.filter((m) => m.type === 'capabilities.report').pop()!;
    const expected = histogram.map((c, k) => c + rows.filter((row) => train.y[row] === k).length);
    expect((latest.body as { labelHistogram: number[] }).labelHistogram).toEqual(expected);
  });

  it('restarts from its data directory: stored teacher, ingested samples and the verified int8 model', async () => {
    const config = agent.config;
    const size = agent.samples.size;
    await agent.stop();
    const log2 = memoryLog();
    agent = await Agent.start({ ...config, coordinator: undefined }, { log: log2 });
    expect(agent.samples.size).toBe(size);
    expect(log2.events.some((e) => e.msg === 'teacher trained')).toBe(false);
    expect(agent.serving.active).toMatchObject({ kind: 'int8', version: 1 });
    expect(readFileSync(join(config.dataDir, 'models', 'active.json'), 'utf8')).toContain('"version":1');
  });
});

function statSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
