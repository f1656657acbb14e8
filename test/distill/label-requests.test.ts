/** Which classes the generator asks for (label-requests.ts, requestBalance) against hand-computed shares. */
import { describe, expect, it } from 'vitest';
import { balancedLabels, labelsByShares, scarcityShares } from '../../coordinator/engine/label-requests.js';
import { ReplayBuffer } from '../../coordinator/engine/replay.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { seededRandom } from '../../shared/random.js';

function countsOf(labels: Int32Array, C: number): number[] {
  const counts = new Array<number>(C).fill(0);
  labels.forEach((y) => counts[y]++);
  return counts;
}

describe('generator label requests', () => {
  it('scarcity shares follow (count + 1)^(−power): 0 alike, 1 inverse to the count', () => {
    // counts 3, 0, 15: (4, 1, 16)^-1 = 1/4, 1, 1/16, normalised by 21/16 → 4/21, 16/21, 1/21
    const inverse = scarcityShares([3, 0, 15], 1);
    [4 / 21, 16 / 21, 1 / 21].forEach((v, c) => expect(inverse[c]).toBeCloseTo(v, 12));
    // power ½: (2, 1, 4)^-½ = ½, 1, ¼, normalised by 7/4 → 2/7, 4/7, 1/7
    const root = scarcityShares([3, 0, 15], 0.5);
    [2 / 7, 4 / 7, 1 / 7].forEach((v, c) => expect(root[c]).toBeCloseTo(v, 12));
    expect(Array.from(scarcityShares([3, 0, 15], 0))).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('a batch follows the shares to within one draw per class, and pairs (i, i + n/2) share a label', () => {
    const shares = [0.5, 0.3, 0.15, 0.05];
    for (let seed = 1; seed <= 20; seed++) {
      const labels = labelsByShares(64, shares, seededRandom(seed));
      expect(labels.length).toBe(64);
      for (let i = 0; i < 32; i++) expect(labels[i + 32]).toBe(labels[i]);
      const firstHalf = countsOf(labels.subarray(0, 32), 4);
      shares.forEach((s, c) => expect(Math.abs(firstHalf[c] - s * 32)).toBeLessThanOrEqual(1));
    }
  });

  it('a class with share 0 is never asked for, and the draws are shuffled rather than sorted', () => {
    const labels = labelsByShares(128, [0.5, 0, 0.5], seededRandom(4));
    expect(countsOf(labels, 3)[1]).toBe(0);
    const first = Array.from(labels.subarray(0, 64));
    expect(first).not.toEqual([...first].sort((a, b) => a - b));
  });

  it('balanced labels ask every class alike', () => {
    const counts = countsOf(balancedLabels(60, 10, seededRandom(2)), 10);
    expect(counts).toEqual(new Array(10).fill(6));
  });

  it("the replay buffer counts each sample under its soft label's top class", () => {
    const buffer = new ReplayBuffer(5, 1, 3);
    buffer.push(new Float32Array(4), Float32Array.from([0.1, 0.8, 0.1, 0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7]));
    const { label, counts } = buffer.topLabels();
    expect(Array.from(label)).toEqual([1, 0, 1, 2]);
    expect(Array.from(counts)).toEqual([1, 2, 1]);
  });

  it('requestBalance is validated and defaults to 0 (balanced requests)', () => {
    expect(parseDistillConfig({}).requestBalance).toBe(0);
    expect(parseDistillConfig({ requestBalance: 0.5 }).requestBalance).toBe(0.5);
    expect(() => parseDistillConfig({ requestBalance: 1.5 })).toThrow(/distill.requestBalance: must be a number in \[0, 1\]/);
    expect(() => parseDistillConfig({ requestBalance: 'high' })).toThrow(/distill.requestBalance/);
  });
});
