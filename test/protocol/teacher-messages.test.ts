/**
 * The TeacherPort vocabulary on the wire: int32 labels in the tensor codec, the cross-field rules of
 * gradient queries, gradient replies and capabilities (checked on both seal and open), size limits at
 * their edges, and the port <-> body conversions in shared/distill/wire.ts.
 */
import { describe, expect, it } from 'vitest';
import { manualClock } from '../../shared/protocol/clock.js';
import type { Draft } from '../../shared/protocol/envelope.js';
import { CATALOG, type GradientQueryBody } from '../../shared/protocol/messages.js';
import { decodeTensor, encodeTensor, float32Tensor, int32Tensor, toFloat32 } from '../../shared/protocol/tensor.js';
import { seededRandom } from '../../shared/random.js';
import {
  capabilitiesBody,
  gradientQueryBody,
  gradientQueryFrom,
  gradientReplyBody,
  gradientReplyFrom,
  logitsReplyBody,
  logitsReplyFrom,
  teacherInfoFrom,
} from '../../shared/distill/wire.js';
import type { GradientQuery } from '../../shared/distill/port.js';
import { craftFrame, craftHeader, makeFleet } from './helpers/peers.js';

const clock = manualClock();
const fleet = makeFleet(1, clock);
const rnd = seededRandom(11);
const floats = (n: number) => Float32Array.from({ length: n }, () => rnd.normal());

const query: GradientQuery = {
  inputs: { shape: [4, 2, 3], values: floats(24) },
  targets: Int32Array.from([0, 2, 1, 2]),
  sampleWeights: Float32Array.from([1, 0.5, 0.25, 0]),
  studentProbs: { shape: [4, 3], values: floats(12) },
  weights: { ce: 1, bn: 0.5, adv: 0.25 },
};

const checkBody = (type: keyof typeof CATALOG, body: unknown) => (CATALOG[type].check as (v: unknown, p: string) => { ok: boolean; error?: { reason: string } })(body, 'body');

describe('teacher messages', () => {
  it('carries int32 labels exactly through the tensor codec', () => {
    const labels = Int32Array.from([0, 9, -1, 2 ** 31 - 1, -(2 ** 31)]);
    const back = decodeTensor(encodeTensor(int32Tensor(labels, [5])));
    expect(back.dtype).toBe('int32');
    expect(Array.from(back.data)).toEqual(Array.from(labels));
    // As floats, labels stay exact up to 2^24 (larger ints round, which is why labels travel as int32).
    expect(Array.from(toFloat32(back)).slice(0, 3)).toEqual([0, 9, -1]);
  });

  it('round-trips a gradient query and reply through the port conversions, bit-exact in float32', () => {
    const back = gradientQueryFrom(gradientQueryBody(query, { deadlineMs: 1000 }));
    expect(back).toEqual(query);
    for (const mix of ['own', 'class'] as const) {
      const withMix = { ...query, bnClassMix: mix };
      expect(gradientQueryFrom(gradientQueryBody(withMix, { deadlineMs: 1000 }))).toEqual(withMix);
    }
    const perClass = { ...query, classWeights: { shape: [4, 3], values: floats(12) } };
    expect(gradientQueryFrom(gradientQueryBody(perClass, { deadlineMs: 1000 }))).toEqual(perClass);
    const firstLayer = { ...query, bnFirstLayer: 10 };
    expect(gradientQueryFrom(gradientQueryBody(firstLayer, { deadlineMs: 1000 }))).toEqual(firstLayer);
    const smoothed = { ...query, smoothGrad: { sigma: 0.1, samples: 2, seed: 12345 } };
    expect(gradientQueryFrom(gradientQueryBody(smoothed, { deadlineMs: 1000 }))).toEqual(smoothed);
    const focal = { ...query, ceFocal: 1.5 };
    expect(gradientQueryFrom(gradientQueryBody(focal, { deadlineMs: 1000 }))).toEqual(focal);
    const reply = { logits: { shape: [4, 3], values: floats(12) }, inputGradient: { shape: [4, 2, 3], values: floats(24) }, loss: { ce: 1.5, bn: 0, adv: -0.2 } };
    expect(gradientReplyFrom(gradientReplyBody(reply))).toEqual(reply);
    const half = gradientReplyFrom(gradientReplyBody(reply, 'float16'));
    half.inputGradient.values.forEach((v, i) => expect(Math.abs(v - reply.inputGradient.values[i])).toBeLessThanOrEqual(Math.abs(reply.inputGradient.values[i]) * 2 ** -11 + 2 ** -24));
  });

  it('divides logits by the query temperature', () => {
    const r = logitsReplyFrom(logitsReplyBody({ logits: { shape: [1, 2], values: Float32Array.from([4, -2]) } }, 2));
    expect(Array.from(r.logits.values)).toEqual([2, -1]);
  });

  it('carries a teacher info and device facts in capabilities.report', () => {
    const info = { numClasses: 3, inputShape: [2, 3], labelHistogram: [5, 0, 7], hasBatchNorm: true, gradients: false };
    const body = capabilitiesBody(info, { backend: 'wasm', memoryMB: 512 });
    expect(checkBody('capabilities.report', body).ok).toBe(true);
    expect(teacherInfoFrom(body)).toEqual(info);
  });

  it.each([
    ['a label count that differs from the batch', { targets: encodeTensor(int32Tensor(Int32Array.from([1, 2]), [2])) }, /body\.targets\.shape: expected \[4\]/],
    ['float labels', { targets: encodeTensor(float32Tensor(new Float32Array(4), [4])) }, /body\.targets\.dtype: expected one of int32/],
    ['a sample weight per class instead of per input', { sampleWeights: encodeTensor(float32Tensor(new Float32Array(3), [3])) }, /body\.sampleWeights\.shape: expected \[4\]/],
    ['per-class CE weights for another batch', { classWeights: encodeTensor(float32Tensor(new Float32Array(6), [2, 3])) }, /body\.classWeights\.shape: expected \[4, classes\]/],
    ['per-class CE weights of rank 1', { classWeights: encodeTensor(float32Tensor(new Float32Array(4), [4])) }, /body\.classWeights\.shape: expected \[4, classes\]/],
    ['student probabilities for another batch', { studentProbs: encodeTensor(float32Tensor(new Float32Array(6), [2, 3])) }, /body\.studentProbs\.shape: expected \[4, classes\]/],
    ['a negative loss weight', { weights: { ce: -1, bn: 0, adv: 0 } }, /body\.weights\.ce/],
    ['an unknown batch-norm class mix', { bnClassMix: 'skewed' }, /body\.bnClassMix/],
    ['a negative first-layer BN multiplier', { bnFirstLayer: -1 }, /body\.bnFirstLayer/],
    ['more SmoothGrad copies than a device computes', { smoothGrad: { sigma: 0.1, samples: 17, seed: 1 } }, /body\.smoothGrad\.samples/],
    ['a negative SmoothGrad noise', { smoothGrad: { sigma: -0.1, samples: 1, seed: 1 } }, /body\.smoothGrad\.sigma/],
    ['a SmoothGrad setting without its seed', { smoothGrad: { sigma: 0.1, samples: 1 } }, /body\.smoothGrad\.seed/],
    ['a focusing exponent above the limit', { ceFocal: 11 }, /body\.ceFocal/],
    ['a negative focusing exponent', { ceFocal: -0.5 }, /body\.ceFocal/],
    ['rank-1 inputs', { inputs: encodeTensor(float32Tensor(new Float32Array(4), [4])) }, /body\.inputs\.shape: expected \[batch, \.\.\.sample\]/],
  ])('refuses a gradient query with %s, on seal and on open', (_, patch, reason) => {
    const body = { ...gradientQueryBody(query, { deadlineMs: 1000 }), ...patch } as GradientQueryBody;
    const coordinator = fleet.coordinatorChannel();
    expect(() => coordinator.seal(fleet.devices[0].id, { type: 'gradient.query', body })).toThrow(reason);
    const device = fleet.deviceChannel(fleet.devices[0]);
    const frame = craftFrame(craftHeader(fleet.coordinator, fleet.devices[0], body, clock, { type: 'gradient.query' }), fleet.coordinator);
    const r = device.open(frame, fleet.coordinator.id);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('bad_shape');
      expect(r.error.reason).toMatch(reason);
    }
  });

  it('refuses a gradient reply whose gradient rows differ from its logits rows, and a histogram per wrong class count', () => {
    const reply = gradientReplyBody({ logits: { shape: [4, 3], values: floats(12) }, inputGradient: { shape: [3, 2, 3], values: floats(18) }, loss: { ce: 0, bn: 0, adv: 0 } });
    expect(checkBody('gradient.reply', reply).error?.reason).toMatch(/body\.inputGradient\.shape: expected 4 rows/);
    const caps = capabilitiesBody({ numClasses: 3, inputShape: [2], labelHistogram: [1, 2], hasBatchNorm: false, gradients: true });
    expect(checkBody('capabilities.report', caps).error?.reason).toMatch(/body\.labelHistogram: expected 3 counts/);
    expect(checkBody('capabilities.report', { ...caps, labelHistogram: [1, 2, 3], hasBatchNorm: 1 }).error?.reason).toMatch(/body\.hasBatchNorm: expected boolean/);
  });

  it('fits the largest gradient reply the limits allow, and refuses one element more', () => {
    const device = fleet.deviceChannel(fleet.devices[0]);
    const big = (gradElements: number): Draft => ({
      type: 'gradient.reply',
      body: {
        logits: encodeTensor(float32Tensor(new Float32Array(1024 * 1024), [1024, 1024])),
        inputGradient: encodeTensor(float32Tensor(new Float32Array(gradElements), [1024, gradElements / 1024])),
        loss: { ce: 0, bn: 0, adv: 0 },
      },
    });
    const { frame } = device.seal(fleet.coordinator.id, big(4 * 1024 * 1024));
    expect(frame.length).toBeLessThanOrEqual(CATALOG['gradient.reply'].maxBytes);
    expect(() => device.seal(fleet.coordinator.id, big(4 * 1024 * 1024 + 1024))).toThrow(/body\.inputGradient: 4195328 elements exceeds limit/);
    // The query side: a full-size float32 query with every optional tensor fits its frame limit.
    const n = 1024 * 1024;
    const q: Draft = {
      type: 'gradient.query',
      body: {
        inputs: encodeTensor(float32Tensor(new Float32Array(4 * n), [n, 4])),
        targets: encodeTensor(int32Tensor(new Int32Array(n), [n])),
        sampleWeights: encodeTensor(float32Tensor(new Float32Array(n), [n])),
        studentProbs: encodeTensor(float32Tensor(new Float32Array(n), [n, 1])),
        weights: { ce: 1, bn: 0, adv: 0 },
        deadlineMs: 10,
      },
    };
    expect(fleet.coordinatorChannel().seal(fleet.devices[0].id, q).frame.length).toBeLessThanOrEqual(CATALOG['gradient.query'].maxBytes);
  });
});
