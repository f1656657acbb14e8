import { describe, expect, it } from 'vitest';
import { manualClock } from '../../shared/protocol/clock.js';
import type { Draft } from '../../shared/protocol/envelope.js';
import { CATALOG, MESSAGE_TYPES, type Bodies, type MessageType } from '../../shared/protocol/messages.js';
import { encodeTensor, float16Tensor, float32Tensor, int32Tensor, quantizeInt8 } from '../../shared/protocol/tensor.js';
import { seededRandom } from '../../shared/random.js';
import { signModel } from '../../shared/security/model-signature.js';
import { makeFleet } from './helpers/peers.js';

const clock = manualClock();
const fleet = makeFleet(1, clock);
const rnd = seededRandom(5);
const floats = (n: number) => Float32Array.from({ length: n }, () => rnd.normal());

/** One example body per type; the mapped type makes a new message type without an example a compile error. */
const examples: { [K in MessageType]: Bodies[K] } = {
  'enroll.request': { token: 'dt_example', platform: 'linux-arm64' },
  'enroll.accept': { deviceId: fleet.devices[0].id, fleet: 'greenhouse-7' },
  'enroll.pending': { reason: 'awaiting operator approval' },
  'round.query': { inputs: encodeTensor(float32Tensor(floats(2 * 8), [2, 8])), temperature: 3, deadlineMs: 5000 },
  'round.reply': { logits: encodeTensor(float16Tensor(floats(2 * 10), [2, 10])) },
  'gradient.query': {
    inputs: encodeTensor(float32Tensor(floats(2 * 8), [2, 8])),
    targets: encodeTensor(int32Tensor(new Int32Array([3, 9]), [2])),
    sampleWeights: encodeTensor(float32Tensor(new Float32Array([0.25, 1]), [2])),
    studentProbs: encodeTensor(float16Tensor(floats(2 * 10), [2, 10])),
    weights: { ce: 1, bn: 0, adv: 0.5 },
    deadlineMs: 5000,
    replyDtype: 'float16',
  },
  'gradient.reply': {
    logits: encodeTensor(float32Tensor(floats(2 * 10), [2, 10])),
    inputGradient: encodeTensor(float16Tensor(floats(2 * 8), [2, 8])),
    loss: { ce: 2.1, bn: 0, adv: -0.3 },
  },
  'capabilities.query': {},
  'capabilities.report': {
    numClasses: 3,
    inputShape: [8, 8, 1],
    labelHistogram: [10, 0, 4],
    hasBatchNorm: true,
    gradients: true,
    platform: 'linux-arm64',
    backend: 'wasm',
    memoryMB: 912.5,
    modelSpec: '{"kind":"cnn"}',
  },
  'model.publish': signModel(
    {
      modelId: 'student-mlp',
      version: 4,
      topology: new TextEncoder().encode('{"layers":[]}'),
      tensors: [
        { name: 'dense/kernel', tensor: encodeTensor(float32Tensor(floats(12), [3, 4])) },
        { name: 'dense/bias', tensor: encodeTensor(quantizeInt8(floats(4), [4])) },
      ],
    },
    fleet.coordinator.sign.secretKey,
  ),
  'model.fetch': { modelId: 'student-mlp', version: 3 },
  'model.ack': { modelId: 'student-mlp', version: 4 },
  'telemetry.report': { metrics: { battery: 0.82, 'latency.p50': 12.5 } },
  'health.ping': {},
  'health.pong': {},
  error: { code: 'handler_failed', reason: 'teacher model not loaded' },
};

/** Deep equality that compares byte arrays by content (msgpackr returns Buffers for bin). */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

describe('message catalog', () => {
  it('has an example for every type and only for catalog types', () => {
    expect(Object.keys(examples).sort()).toEqual([...MESSAGE_TYPES].sort());
    for (const t of MESSAGE_TYPES) expect(t === 'error' || /^[a-z]+\.[a-z]+$/.test(t)).toBe(true);
  });

  it.each(MESSAGE_TYPES)('round-trips %s through seal and open, signed and encrypted', (type) => {
    const body = examples[type];
    const draft = { type, body, round: 9 } as Draft;
    // Device -> coordinator for most types; coordinator -> device for what only a coordinator sends.
    const fromCoordinator = ['enroll.accept', 'enroll.pending', 'round.query', 'gradient.query', 'capabilities.query', 'model.publish'].includes(type);
    const sender = fromCoordinator ? fleet.coordinatorChannel() : fleet.deviceChannel(fleet.devices[0]);
    const receiver = fromCoordinator ? fleet.deviceChannel(fleet.devices[0]) : fleet.coordinatorChannel();
    const to = fromCoordinator ? fleet.devices[0].id : fleet.coordinator.id;
    const { id, frame } = sender.seal(to, draft, { replyTo: 'req1' });
    expect(frame.length).toBeLessThanOrEqual(CATALOG[type].maxBytes);
    const r = receiver.open(frame, sender.localId);
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.reason}`);
    expect(r.value).toMatchObject({ v: 1, type, id, replyTo: 'req1', round: 9, sender: sender.localId, to, ts: clock.now() });
    expect(normalize(r.value.body)).toEqual(normalize(body));
    expect(r.value.keys !== undefined).toBe(type === 'enroll.request');
  });

  it('refuses to seal a body that fails its own validation, naming the field', () => {
    const ch = fleet.deviceChannel(fleet.devices[0]);
    const bad = { type: 'telemetry.report', body: { metrics: { battery: NaN } } } as Draft;
    expect(() => ch.seal(fleet.coordinator.id, bad)).toThrow(/body\.metrics\.battery: expected finite number/);
  });

  it('refuses to seal a frame over its type limit on the sending side', () => {
    const ch = fleet.deviceChannel(fleet.devices[0]);
    const half = { type: 'round.reply', body: { logits: encodeTensor(float16Tensor(new Float32Array(1024 * 1024), [1024, 1024])) } } as Draft;
    expect(() => ch.seal(fleet.coordinator.id, half)).not.toThrow();
    const big = { type: 'round.reply', body: { logits: encodeTensor(float32Tensor(new Float32Array(1024 * 1024), [1024, 1024])) } } as Draft;
    expect(() => ch.seal(fleet.coordinator.id, big)).toThrow(/exceeds its limit/);
  });

  it('refuses to seal for a peer with no key on record', () => {
    const ch = fleet.deviceChannel(fleet.devices[0]);
    expect(() => ch.seal('nobody', { type: 'health.ping', body: {} })).toThrow(/no key on record/);
  });
});
