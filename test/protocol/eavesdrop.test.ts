/**
 * An eavesdropper subscribed to '#' on the broker during a full run (enrollment, round query and reply,
 * model publication, telemetry) must find no plaintext tensor, label or token bytes in anything it sees.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/protocol/clock.js';
import { packValue } from '../../shared/protocol/msgpack.js';
import { encodeTensor, float16Tensor, float32Tensor, type WireTensor } from '../../shared/protocol/tensor.js';
import { seededRandom } from '../../shared/random.js';
import { answerEnrollment } from '../../shared/security/enrollment.js';
import { generateIdentity, publicIdentity } from '../../shared/security/keys.js';
import { MemoryRegistry, pinnedDirectory } from '../../shared/security/registry.js';
import { SecureChannel } from '../../shared/security/channel.js';
import { signModel } from '../../shared/security/model-signature.js';
import { connectMqttHub, connectMqttSpoke } from '../../shared/transport/mqtt-link.js';
import { createTransport } from '../../shared/transport/transport.js';
import { captureLogger } from './helpers/peers.js';
import { startMosquitto, type Mosquitto } from './helpers/mosquitto.js';

/** 16-byte windows spread over a tensor's raw bytes: any one in clear would be a leak. */
const windows = (t: WireTensor): Buffer[] => [0, 0.25, 0.5, 0.75].map((p) => Buffer.from(t.data.subarray(Math.floor(p * (t.data.length - 16)), Math.floor(p * (t.data.length - 16)) + 16)));

async function fullRun(brokerUrl: string | undefined, fleetName: string) {
  const rnd = seededRandom(2024);
  const coordinator = generateIdentity();
  const device = generateIdentity();
  const registry = new MemoryRegistry();
  const token = registry.issueToken({ ttlMs: 60_000, now: systemClock.now() });
  const hubLink = await connectMqttHub({ url: brokerUrl, fleet: fleetName, id: coordinator.id });
  const spy = await mqtt.connectAsync(hubLink.brokerUrl, { clientId: `spy-${fleetName}` });
  const seen: { topic: string; payload: Buffer }[] = [];
  spy.on('message', (topic, payload) => seen.push({ topic, payload: Buffer.from(payload) }));
  await spy.subscribeAsync('#', { qos: 1 });

  const inputs = encodeTensor(float32Tensor(Float32Array.from({ length: 64 * 16 }, () => rnd.normal()), [64, 16]));
  const logits = encodeTensor(float16Tensor(Float32Array.from({ length: 64 * 10 }, () => rnd.normal() * 3), [64, 10]));
  const weights = encodeTensor(float32Tensor(Float32Array.from({ length: 512 }, () => rnd.normal()), [32, 16]));
  const labelName = 'soft_label_tabby_cat';
  const platform = 'secret-greenhouse-board-rev7';

  const hub = createTransport(hubLink, new SecureChannel({ identity: coordinator, directory: registry, acceptEnrollment: true, logger: captureLogger() }), { logger: captureLogger() });
  const telemetry: string[] = [];
  hub.handle((m) => {
    if (m.type === 'enroll.request') return answerEnrollment(registry, m, { fleet: fleetName, clock: systemClock });
    if (m.type === 'telemetry.report') telemetry.push(...Object.keys(m.body.metrics));
  });
  const spokeLink = await connectMqttSpoke({ url: hubLink.brokerUrl, fleet: fleetName, id: device.id, hubId: coordinator.id });
  const agent = createTransport(spokeLink, new SecureChannel({ identity: device, directory: pinnedDirectory([publicIdentity(coordinator)]), logger: captureLogger() }), { logger: captureLogger() });
  agent.handle((m) => {
    if (m.type === 'round.query') return { type: 'round.reply', body: { logits } };
    if (m.type === 'model.publish') return { type: 'model.ack', body: { modelId: m.body.modelId, version: m.body.version } };
  });

  const enrolled = await agent.request(coordinator.id, { type: 'enroll.request', body: { token, platform } });
  const reply = await hub.request(device.id, { type: 'round.query', body: { inputs, temperature: 4, deadlineMs: 1000 }, round: 1 });
  const model = signModel({ modelId: 'student', version: 1, tensors: [{ name: 'dense/kernel', tensor: weights }] }, coordinator.sign.secretKey);
  const ack = await hub.request(device.id, { type: 'model.publish', body: model });
  await agent.send(coordinator.id, { type: 'telemetry.report', body: { metrics: { [labelName]: 0.93 } } });
  while (telemetry.length === 0) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100)); // let the spy receive the last frames
  await agent.close();
  await hub.close();
  await spy.endAsync(true);

  const needles: [string, Buffer][] = [
    ['token', Buffer.from(token)],
    ['platform', Buffer.from(platform)],
    ['label name', Buffer.from(labelName)],
    ...windows(inputs).map((w) => ['inputs', w] as [string, Buffer]),
    ...windows(logits).map((w) => ['logits', w] as [string, Buffer]),
    ...windows(weights).map((w) => ['weights', w] as [string, Buffer]),
  ];
  const plaintexts = [packValue({ token, platform }), packValue({ inputs }), packValue({ logits }), packValue(model), packValue({ metrics: { [labelName]: 1 } })].map((b) => Buffer.from(b));
  return { seen, needles, plaintexts, results: [enrolled.type, reply.type, ack.type] };
}

function check(run: Awaited<ReturnType<typeof fullRun>>): void {
  expect(run.results).toEqual(['enroll.accept', 'round.reply', 'model.ack']);
  const frames = run.seen.filter((s) => s.topic.endsWith('/in') || s.topic.endsWith('/out'));
  expect(frames.length).toBeGreaterThanOrEqual(7); // enroll x2, query, reply, publish, ack, telemetry
  // Control: every needle is present in the plaintext bodies, so the search below can find a leak.
  for (const [what, needle] of run.needles) expect(run.plaintexts.some((p) => p.includes(needle)), `control for ${what}`).toBe(true);
  for (const { topic, payload } of run.seen)
    for (const [what, needle] of run.needles) expect(payload.includes(needle), `${what} in clear on ${topic}`).toBe(false);
}

describe('an eavesdropper on the broker', () => {
  it('sees only ciphertext with the embedded aedes broker', async () => {
    check(await fullRun(undefined, 'spyaedes'));
  });

  describe('with a real Mosquitto broker', () => {
    let broker: Mosquitto;
    beforeAll(async () => {
      broker = await startMosquitto();
    }, 15_000);
    afterAll(() => broker?.stop());
    it('sees only ciphertext', async () => {
      check(await fullRun(broker.url, 'spymosq'));
    });
  });
});
