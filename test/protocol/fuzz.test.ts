/**
 * Property test: at least 10,000 mutated frames thrown at decoding and verification. None may crash the
 * receiver and none may be accepted. Seeds are fixed so a failure reproduces.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../shared/protocol/clock.js';
import type { Draft } from '../../shared/protocol/envelope.js';
import { encodeTensor, float16Tensor, float32Tensor, quantizeInt8 } from '../../shared/protocol/tensor.js';
import { seededRandom } from '../../shared/random.js';
import { signModel } from '../../shared/security/model-signature.js';
import { captureLogger, makeFleet } from './helpers/peers.js';

const clock = manualClock();
const fleet = makeFleet(1, clock);
const [device] = fleet.devices;
const rnd = seededRandom(99);
const floats = (n: number) => Float32Array.from({ length: n }, () => rnd.normal());

/** Valid frames of several types, device -> coordinator and coordinator -> device; never opened, so fresh. */
function corpus() {
  const toCoord: Draft[] = [
    { type: 'health.ping', body: {} },
    { type: 'enroll.request', body: { token: 'dt_abc', platform: 'linux' } },
    { type: 'telemetry.report', body: { metrics: { battery: 0.5, temp: 31 } } },
    { type: 'round.reply', body: { logits: encodeTensor(float16Tensor(floats(64 * 10), [64, 10])) }, round: 2 },
    { type: 'error', body: { code: 'busy', reason: 'try later' } },
  ];
  const toDevice: Draft[] = [
    { type: 'round.query', body: { inputs: encodeTensor(float32Tensor(floats(32), [4, 8])), temperature: 2, deadlineMs: 100 } },
    { type: 'model.publish', body: signModel({ modelId: 'm', version: 1, tensors: [{ name: 'w', tensor: encodeTensor(quantizeInt8(floats(16), [16])) }] }, fleet.coordinator.sign.secretKey) },
  ];
  const dev = fleet.deviceChannel(device);
  const coord = fleet.coordinatorChannel();
  return [
    ...toCoord.map((d) => ({ frame: dev.seal(fleet.coordinator.id, d).frame, toDevice: false })),
    ...toDevice.map((d) => ({ frame: coord.seal(device.id, d).frame, toDevice: true })),
  ];
}

const frames = corpus();
const receivers = { coord: fleet.coordinatorChannel(captureLogger()), device: fleet.deviceChannel(device, captureLogger()) };

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'splice'; other: number; at: number }
  | { kind: 'swapSig'; other: number }
  | { kind: 'append'; bytes: Uint8Array };

const pos = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const mutation: fc.Arbitrary<Mutation[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: pos, value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: pos }),
    fc.record({ kind: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant('splice' as const), other: fc.nat(), at: pos }),
    fc.record({ kind: fc.constant('swapSig' as const), other: fc.nat() }),
    fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  ),
  { minLength: 1, maxLength: 3 },
);

function apply(frame: Uint8Array, muts: Mutation[]): Uint8Array {
  let f = frame.slice();
  for (const m of muts) {
    const at = Math.floor(('at' in m ? m.at : 0) * f.length);
    if (m.kind === 'flip') f[at] ^= 1 << m.bit;
    else if (m.kind === 'set') f[at] = m.value;
    else if (m.kind === 'truncate') f = f.slice(0, at);
    else if (m.kind === 'insert') f = Uint8Array.from([...f.subarray(0, at), ...m.bytes, ...f.subarray(at)]);
    else if (m.kind === 'delete') f = Uint8Array.from([...f.subarray(0, at), ...f.subarray(at + m.len)]);
    else if (m.kind === 'splice') {
      const o = frames[m.other % frames.length].frame;
      f = Uint8Array.from([...f.subarray(0, at), ...o.subarray(Math.min(at, o.length))]);
    } else if (m.kind === 'swapSig') {
      const o = frames[m.other % frames.length].frame;
      if (o !== frame && f.length >= 64) f.set(o.subarray(0, 64), 0);
    } else f = Uint8Array.from([...f, ...m.bytes]);
  }
  return f;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('fuzzing decode and verification', () => {
  it('accepts none of 10,000 mutated frames and never throws', () => {
    let tried = 0;
    fc.assert(
      fc.property(fc.nat({ max: frames.length - 1 }), mutation, (which, muts) => {
        const { frame, toDevice } = frames[which];
        const mutated = apply(frame, muts);
        // A mutation that reproduces any valid frame exactly (e.g. a splice at 0) is legitimately fresh.
        fc.pre(!frames.some((c) => sameBytes(mutated, c.frame)));
        tried++;
        const r = (toDevice ? receivers.device : receivers.coord).open(mutated);
        return r.ok === false && typeof r.error.reason === 'string';
      }),
      { numRuns: 10_000, seed: 20240611, endOnFailure: true },
    );
    expect(tried).toBe(10_000);
    const rejected = (s: ReturnType<typeof receivers.coord.stats>) => Object.values(s.rejected).reduce((a, b) => a + (b ?? 0), 0);
    expect(receivers.coord.stats().accepted + receivers.device.stats().accepted).toBe(0);
    expect(rejected(receivers.coord.stats()) + rejected(receivers.device.stats())).toBe(10_000);
    // The mutations reach past the parser: thousands die at signature verification, and several other checks fire.
    const codes: Record<string, number> = {};
    for (const st of [receivers.coord.stats(), receivers.device.stats()])
      for (const [k, n] of Object.entries(st.rejected)) codes[k] = (codes[k] ?? 0) + (n ?? 0);
    expect(codes.malformed).toBeGreaterThan(1000);
    expect(codes.bad_signature).toBeGreaterThan(1000);
    expect(Object.keys(codes).length).toBeGreaterThanOrEqual(5);
    // The originals are still fresh: nothing above slipped through and consumed their sequence numbers.
    for (const { frame, toDevice } of frames) expect((toDevice ? receivers.device : receivers.coord).open(frame).ok).toBe(true);
  });

  it('survives 2,000 frames of arbitrary bytes', () => {
    const ch = fleet.coordinatorChannel(captureLogger());
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => ch.open(bytes).ok === false),
      { numRuns: 2_000, seed: 7 },
    );
    expect(ch.stats().accepted).toBe(0);
  });
});
