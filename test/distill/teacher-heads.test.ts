/**
 * Per-teacher heads (DistillConfig.teacherHeads): each device's answer restricted to the classes it holds,
 * the heads' masked KL, and the replay buffer's side targets, against hand computations.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { deviceTargetRows, teacherHeadsLoss } from '../../coordinator/engine/teacher-heads.js';
import { ReplayBuffer } from '../../coordinator/engine/replay.js';
import { concatRows } from '../../coordinator/engine/relabel.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { seededRandom } from '../../shared/random.js';

const softmax = (z: number[], tau: number) => {
  const e = z.map((v) => Math.exp(v / tau));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('deviceTargetRows', () => {
  // Three devices, four classes: device 0 holds classes 0 and 1, device 1 all but class 3, device 2 only class 2.
  const held = [
    [true, true, false, false],
    [true, true, true, false],
    [false, false, true, false],
  ];

  it('is each answering device\'s softmax at τ over the classes it holds, zeros for the rest and for silent devices', () => {
    const rows = deviceTargetRows(
      [
        { device: 0, logits: Float32Array.from([2, 0, 9, 9, 1, 1, -5, 7]) },
        { device: 2, logits: Float32Array.from([0, 3, 1, 4, 5, 5, 5, 5]) },
      ],
      held,
      4,
      2,
    );
    expect(rows.length).toBe(2 * 3 * 4);
    const row = (i: number, d: number) => Array.from(rows.subarray(i * 12 + d * 4, i * 12 + d * 4 + 4));
    // Device 0, sample 0: classes 2 and 3 (its loudest logits) are not its to answer.
    const p00 = softmax([2, 0], 2);
    row(0, 0).forEach((v, c) => expect(v).toBeCloseTo([p00[0], p00[1], 0, 0][c], 6));
    row(1, 0).forEach((v, c) => expect(v).toBeCloseTo([0.5, 0.5, 0, 0][c], 6));
    // Device 1 did not answer: an all-zero row. Device 2 holds one class: all its mass is there.
    expect(row(0, 1)).toEqual([0, 0, 0, 0]);
    expect(row(0, 2)).toEqual([0, 0, 1, 0]);
    expect(row(1, 2)).toEqual([0, 0, 1, 0]);
  });

  it('refuses a device that holds no class', () => {
    expect(() => deviceTargetRows([{ device: 0, logits: new Float32Array(4) }], [[false, false, false, false]], 4, 1)).toThrow(/device 0 holds no class/);
  });
});

describe('teacherHeadsLoss', () => {
  it('is τ² × the mean KL over the (sample, device) pairs that answered, each head over its device\'s classes', () => {
    const D = 2;
    const C = 3;
    const tau = 2;
    const held = [1, 1, 0, 0, 1, 1];
    const heads = [
      [0.5, -1, 8, 3, 0.2, 1], // sample 0: device 0's head, then device 1's
      [1, 2, -3, 0, 0, 0], // sample 1
    ];
    const p0 = softmax([1, 0], tau);
    const side = [
      [p0[0], p0[1], 0, 0, 0.25, 0.75],
      [0.9, 0.1, 0, 0, 0, 0], // device 1 did not answer sample 1
    ];
    const kl = (p: number[], z: number[]) => {
      const q = softmax(z, tau);
      return p.reduce((s, pi, i) => s + (pi > 0 ? pi * Math.log(pi / q[i]) : 0), 0);
    };
    const expected = (tau * tau * (kl(side[0].slice(0, 2), heads[0].slice(0, 2)) + kl(side[0].slice(4), heads[0].slice(4)) + kl(side[1].slice(0, 2), heads[1].slice(0, 2)))) / 3;
    const loss = teacherHeadsLoss(tf.tensor2d(heads), tf.tensor2d(side), tf.tensor1d(held), D, C, tau);
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
    // A head that matches its device exactly, on the classes it holds, costs nothing whatever its other logits.
    const exact = teacherHeadsLoss(tf.tensor2d([[1, 0, 50, 0, 0, 0]]), tf.tensor2d([[p0[0], p0[1], 0, 0, 0, 0]]), tf.tensor1d(held), D, C, tau);
    expect(exact.dataSync()[0]).toBeCloseTo(0, 6);
  });
});

describe('side targets in the replay buffer', () => {
  it('travel with their rows through push, draws, snapshots and concatenation', () => {
    const buffer = new ReplayBuffer(4, 2, 2, 3);
    // Row r: x = [r, r], targets = [1, 0] or [0, 1], side = [r, 10 r, 100 r].
    const rows = [0, 1, 2, 3, 4, 5];
    buffer.push(Float32Array.from(rows.flatMap((r) => [r, r])), Float32Array.from(rows.flatMap((r) => (r % 2 ? [0, 1] : [1, 0]))), Float32Array.from(rows.flatMap((r) => [r, 10 * r, 100 * r])));
    // The ring kept rows 2..5.
    const batch = buffer.sample(4, seededRandom(3));
    for (let i = 0; i < batch.n; i++) {
      const r = batch.x[2 * i];
      expect(r).toBeGreaterThanOrEqual(2);
      expect(Array.from(batch.side!.subarray(3 * i, 3 * i + 3))).toEqual([r, 10 * r, 100 * r]);
    }
    const balanced = buffer.classBalancedSampler(1)(3, seededRandom(4));
    for (let i = 0; i < balanced.n; i++) expect(balanced.side![3 * i + 1]).toBe(10 * balanced.x[2 * i]);
    const copy = new ReplayBuffer(4, 2, 2, 3);
    copy.restore(buffer.snapshot());
    expect(Array.from(copy.side)).toEqual(Array.from(buffer.side));
    expect(() => copy.restore({ ...buffer.snapshot(), side: undefined })).toThrow(/no side targets/);
    expect(() => buffer.push(new Float32Array(2), Float32Array.from([1, 0]))).toThrow(/0 side values for 1 rows of 3/);
    const joined = concatRows(batch, balanced);
    expect(joined.side!.length).toBe(3 * (batch.n + balanced.n));
    expect(Array.from(joined.side!.subarray(3 * batch.n))).toEqual(Array.from(balanced.side!));
  });
});

describe('the setting', () => {
  it('is off by default and names itself when out of range', () => {
    expect(parseDistillConfig({}).teacherHeads).toBe(0);
    expect(() => parseDistillConfig({ teacherHeads: -1 })).toThrow(/distill.teacherHeads: must be a number in 0..10/);
    expect(() => parseDistillConfig({ teacherHeads: 'yes' })).toThrow(/teacherHeads/);
  });
});
