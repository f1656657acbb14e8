/** Class-balanced draws from the replay buffer (studentBalance) against their closed-form shares. */
import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../coordinator/engine/replay.js';
import { seededRandom } from '../../shared/random.js';

/** 900 samples whose soft label ranks class 0 first, 100 class 1 and none class 2; x holds each sample's index. */
function skewedBuffer(): ReplayBuffer {
  const n = 1000;
  const buffer = new ReplayBuffer(n, 1, 3);
  const x = Float32Array.from({ length: n }, (_, i) => i);
  const targets = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) targets.set(i < 900 ? [0.6, 0.3, 0.1] : [0.2, 0.7, 0.1], i * 3);
  buffer.push(x, targets);
  return buffer;
}

/** Share of class-1 samples (index >= 900) over many batches. */
function classOneShare(draw: (batch: number, rng: ReturnType<typeof seededRandom>) => { x: Float32Array }, batches = 400): number {
  const rng = seededRandom(3);
  let ones = 0;
  let all = 0;
  for (let b = 0; b < batches; b++) {
    const { x } = draw(20, rng);
    x.forEach((i) => (ones += i >= 900 ? 1 : 0));
    all += x.length;
  }
  return ones / all;
}

describe('class-balanced replay draws', () => {
  it('balance 1 gives each labelled class an equal share, 0.5 the square-root share, 0 the uniform one', () => {
    const buffer = skewedBuffer();
    expect(classOneShare(buffer.classBalancedSampler(1))).toBeCloseTo(0.5, 1);
    // weights 900^-½ and 100^-½ per sample: class 1 gets 100·100^-½ / (900·900^-½ + 100·100^-½) = 10 / (30 + 10) = 1/4
    expect(classOneShare(buffer.classBalancedSampler(0.5))).toBeCloseTo(0.25, 1);
    expect(classOneShare(buffer.classBalancedSampler(0))).toBeCloseTo(0.1, 1);
  });

  it('knows the soft label a draw gives on average: the student\'s label skew at each balance', () => {
    const buffer = skewedBuffer();
    // Uniform: 0.9 · [0.6, 0.3, 0.1] + 0.1 · [0.2, 0.7, 0.1]; balance 1: half each; 0.5: a quarter of class 1 (above).
    const expectations: [number, number[]][] = [[0, [0.56, 0.34, 0.1]], [1, [0.4, 0.5, 0.1]], [0.5, [0.5, 0.4, 0.1]]];
    for (const [balance, expected] of expectations) buffer.meanTarget(balance).forEach((v, c) => expect(v).toBeCloseTo(expected[c], 6)); // float32 soft labels
    expect(Array.from(buffer.drawWeights(1).slice(898, 902))).toEqual([1 / 900, 1 / 900, 1 / 100, 1 / 100]);
  });

  it('balance 0 draws exactly the batches of the uniform sampler, so runs without it keep their random streams', () => {
    const buffer = skewedBuffer();
    const [a, b] = [seededRandom(9), seededRandom(9)];
    const draw = buffer.classBalancedSampler(0);
    for (let k = 0; k < 5; k++) expect(Array.from(draw(30, a).x)).toEqual(Array.from(buffer.sample(30, b).x));
  });

  it('keeps each sample with its own soft label', () => {
    const { x, targets } = skewedBuffer().classBalancedSampler(1)(50, seededRandom(4));
    x.forEach((i, k) => expect(Array.from(targets.subarray(k * 3, k * 3 + 3))).toEqual(Array.from(Float32Array.from(i < 900 ? [0.6, 0.3, 0.1] : [0.2, 0.7, 0.1]))));
  });

  it('rejects a balance outside [0, 1], naming it', () => {
    expect(() => skewedBuffer().classBalancedSampler(1.5)).toThrow(/class balance must be in \[0, 1\], got 1.5/);
    expect(() => skewedBuffer().classBalancedSampler(-0.1)).toThrow(/got -0.1/);
  });
});
