/**
 * Every bad-input case from the issue: each is refused with a stable code, a logged reason and a counter,
 * and the receiver keeps serving its other peers.
 */
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../shared/protocol/clock.js';
import type { RejectCode } from '../../shared/protocol/errors.js';
import { MAX_FRAME_BYTES } from '../../shared/protocol/messages.js';
import { packValue } from '../../shared/protocol/msgpack.js';
import { encodeTensor, float32Tensor } from '../../shared/protocol/tensor.js';
import { generateIdentity, publicIdentity, SecureChannel, signModel } from '../../shared/security/index.js';
import { pinnedDirectory } from '../../shared/security/registry.js';
import { createMemoryNetwork } from '../../shared/transport/memory.js';
import { createTransport } from '../../shared/transport/transport.js';
import { waitFor } from './helpers/contract.js';
import { captureLogger, craftFrame, craftHeader, makeFleet } from './helpers/peers.js';

function setup() {
  const clock = manualClock();
  const fleet = makeFleet(2, clock);
  const [good, other] = fleet.devices;
  const logger = captureLogger();
  const coord = fleet.coordinatorChannel(logger);
  const devChannel = fleet.deviceChannel(good);
  const ping = () => devChannel.seal(fleet.coordinator.id, { type: 'health.ping', body: {} }).frame;
  return { clock, fleet, good, other, logger, coord, devChannel, ping };
}

type Setup = ReturnType<typeof setup>;

const cases: [RejectCode, RegExp, (s: Setup) => { frame: Uint8Array; from?: string }][] = [
  ['malformed', /shorter than a signature/, () => ({ frame: nacl.randomBytes(40) })],
  ['malformed', /msgpack/, () => ({ frame: Uint8Array.from([...nacl.randomBytes(64), 0xc1, 0xd9, 0xff]) })],
  ['malformed', /Unexpected end/, (s) => ({ frame: s.ping().subarray(0, 150) })], // truncated msgpack
  ['malformed', /trailing bytes/, (s) => ({ frame: Uint8Array.from([...s.ping(), 0x00]) })],
  ['bad_shape', /header: expected object, got array/, (s) => ({ frame: craftFrame([1, 2, 3] as never, s.good) })],
  ['bad_shape', /header\.hello: no such field/, (s) => ({ frame: craftFrame({ hello: 'world' }, s.good) })],
  ['bad_shape', /header\.seq: expected integer/, (s) => ({ frame: craftFrame(craftHeader(s.good, s.fleet.coordinator, {}, s.clock, { seq: 'one' }), s.good) })],
  ['unknown_type', /unknown message type weights\.steal/, (s) => ({ frame: craftFrame(craftHeader(s.good, s.fleet.coordinator, {}, s.clock, { type: 'weights.steal' }), s.good) })],
  ['unsupported_version', /speaks version 1, got 2/, (s) => ({ frame: craftFrame(craftHeader(s.good, s.fleet.coordinator, {}, s.clock, { v: 2 }), s.good) })],
  ['too_large', /exceeds 67108864/, () => ({ frame: new Uint8Array(MAX_FRAME_BYTES + 1) })],
  [
    'too_large',
    /telemetry\.report frame of \d+ bytes exceeds its limit of 65536/,
    (s) => ({ frame: craftFrame(craftHeader(s.good, s.fleet.coordinator, { metrics: {} }, s.clock, { ct: new Uint8Array(70_000) }), s.good) }),
  ],
  [
    'bad_signature',
    /does not verify/,
    (s) => {
      const f = s.ping();
      f[10] ^= 1;
      return { frame: f };
    },
  ],
  [
    'bad_signature',
    /does not verify/,
    (s) => {
      const f = s.ping();
      f[f.length - 5] ^= 0x80; // inside the ciphertext: covered by the signature
      return { frame: f };
    },
  ],
  ['unknown_sender', /no key on record/, (s) => {
    const stranger = generateIdentity();
    return { frame: craftFrame(craftHeader(stranger, s.fleet.coordinator, { metrics: {} }, s.clock, { sender: stranger.id }), stranger) };
  }],
  ['revoked_sender', /is revoked/, (s) => {
    s.fleet.registry.revoke(s.other.id, 'stolen', s.clock.now());
    return { frame: s.fleet.deviceChannel(s.other).seal(s.fleet.coordinator.id, { type: 'health.ping', body: {} }).frame };
  }],
  ['replay', /already accepted/, (s) => {
    const f = s.ping();
    expect(s.coord.open(f).ok).toBe(true);
    return { frame: f };
  }],
  ['stale', /outside ±30000 ms/, (s) => {
    const f = s.ping();
    s.clock.advance(31_000);
    return { frame: f };
  }],
  ['decrypt_failed', /does not decrypt/, (s) => {
    const wrongKey = nacl.box.keyPair();
    const nonce = nacl.randomBytes(24);
    const ct = nacl.box(packValue({ metrics: { x: 1 } }), nonce, wrongKey.publicKey, s.good.box.secretKey);
    return { frame: craftFrame(craftHeader(s.good, s.fleet.coordinator, {}, s.clock, { nonce, ct }), s.good) };
  }],
  ['bad_shape', /body\.metrics: expected object, got array/, (s) => ({ frame: craftFrame(craftHeader(s.good, s.fleet.coordinator, { metrics: [1] }, s.clock), s.good) })],
  ['wrong_recipient', /arrived at/, (s) => ({ frame: craftFrame(craftHeader(s.good, s.other, { metrics: {} }, s.clock), s.good) })],
  ['sender_mismatch', /arrived from/, (s) => ({ frame: s.ping(), from: s.other.id })],
  ['bad_identity', /not the fingerprint/, (s) => {
    const impostor = generateIdentity();
    const keys = { sign: impostor.sign.publicKey, box: impostor.box.publicKey };
    return { frame: craftFrame(craftHeader(impostor, s.fleet.coordinator, {}, s.clock, { type: 'enroll.request', sender: s.good.id, keys }), impostor) };
  }],
];

describe('bad input is refused with a reason, a log line and a counter', () => {
  it.each(cases.map((c, i) => [`${c[0]} #${i}`, ...c] as const))('%s', (_label, code, reason, make) => {
    const s = setup();
    const { frame, from } = make(s);
    const before = s.coord.stats().rejected[code] ?? 0;
    const r = s.coord.open(frame, from);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.reason).toMatch(reason);
    expect(s.coord.stats().rejected[code]).toBe(before + 1);
    expect(s.logger.lines.at(-1)).toContain(`rejected frame: ${code}: `);
  });

  it('refuses a model whose detached signature does not match its content', () => {
    const s = setup();
    const agent = new SecureChannel({ identity: s.good, directory: pinnedDirectory([publicIdentity(s.fleet.coordinator)]), clock: s.clock, logger: captureLogger() });
    const model = signModel({ modelId: 'm', version: 1, tensors: [{ name: 'w', tensor: encodeTensor(float32Tensor(new Float32Array([1, 2]), [2])) }] }, s.fleet.coordinator.sign.secretKey);
    const tampered = { ...model, tensors: [{ name: 'w', tensor: encodeTensor(float32Tensor(new Float32Array([1, 3]), [2])) }] };
    const coordSender = s.fleet.coordinatorChannel();
    expect(agent.open(coordSender.seal(s.good.id, { type: 'model.publish', body: model }).frame).ok).toBe(true);
    const r = agent.open(coordSender.seal(s.good.id, { type: 'model.publish', body: tampered }).frame);
    expect(!r.ok && r.error.code).toBe('bad_model_signature');
  });

  it('answers a proven sender whose body is invalid with an error reply, and serves the other device meanwhile', async () => {
    const s = setup();
    const net = createMemoryNetwork();
    const hub = createTransport(net.connect(s.fleet.coordinator.id), s.coord, { logger: s.logger });
    hub.handle((m) => (m.type === 'health.ping' ? { type: 'health.pong', body: {} } : undefined));
    const goodLink = net.connect(s.good.id);
    const goodReplies: string[] = [];
    // A raw device: it sends crafted frames and decodes whatever comes back with its own channel.
    goodLink.onFrame((f) => {
      const r = s.devChannel.open(f);
      if (r.ok) goodReplies.push(r.value.type === 'error' ? r.value.body.code : r.value.type);
    });
    const helper = s.fleet.devices[1];
    const helperT = createTransport(net.connect(helper.id), s.fleet.deviceChannel(helper), { logger: captureLogger() });
    const badBody = craftFrame(craftHeader(s.good, s.fleet.coordinator, { nope: true }, s.clock, { type: 'health.ping' }), s.good);
    await goodLink.send(s.fleet.coordinator.id, badBody);
    // Twelve more kinds of junk from the same socket: random, truncated, wrong shape, version, forged, undecryptable...
    for (const i of [0, 1, 2, 3, 4, 5, 7, 8, 11, 12, 13, 17]) await goodLink.send(s.fleet.coordinator.id, cases[i][2](s).frame);
    expect((await helperT.request(s.fleet.coordinator.id, { type: 'health.ping', body: {} })).type).toBe('health.pong');
    await waitFor(() => goodReplies.length === 1, 2000, 'the error reply');
    expect(goodReplies).toEqual(['bad_shape']);
    await waitFor(() => Object.values(s.coord.stats().rejected).reduce((a, b) => a + (b ?? 0), 0) === 13, 2000, '13 rejections');
    expect(s.coord.stats().accepted).toBe(1);
    await Promise.all([hub.close(), helperT.close()]);
  });
});
