/** Every aggregation strategy against values worked out by hand (comments show the arithmetic). */
import { describe, expect, it } from 'vitest';
import { AGGREGATION_NAMES, aggregateTargets, getAggregator } from '../../shared/distill/aggregation/index.js';

const ln = Math.log;
const f = (xs: number[]) => Float32Array.from(xs);

function close(actual: Float32Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, 5));
}

// Device A: logits [ln 3, 0] -> p = [0.75, 0.25]; device B: [0, 0] -> p = [0.5, 0.5].
const twoDevices = { logits: [f([ln(3), 0]), f([0, 0])], numClasses: 2, tau: 1 };

describe('aggregation strategies', () => {
  it('mean-logits: softmax of the mean logits', () => {
    // mean = [ln3/2, 0] -> [sqrt3, 1] / (sqrt3 + 1)
    close(getAggregator('mean-logits')(twoDevices), [Math.sqrt(3) / (Math.sqrt(3) + 1), 1 / (Math.sqrt(3) + 1)]);
  });

  it('mean-probs: mean of the probabilities, also at a temperature', () => {
    close(getAggregator('mean-probs')(twoDevices), [0.625, 0.375]);
    // tau = 2: A -> softmax([ln3/2, 0]) = [0.634, 0.366]; B -> [0.5, 0.5]
    const a0 = Math.sqrt(3) / (Math.sqrt(3) + 1);
    close(getAggregator('mean-probs')({ ...twoDevices, tau: 2 }), [(a0 + 0.5) / 2, (1 - a0 + 0.5) / 2]);
  });

  it('confidence: probabilities weighted by each device\'s max probability', () => {
    // (0.75 * [0.75, 0.25] + 0.5 * [0.5, 0.5]) / 1.25 = [0.65, 0.35]
    close(getAggregator('confidence')(twoDevices), [0.65, 0.35]);
  });

  it('class-weighted: a device that never saw a class does not vote on it', () => {
    // A saw classes 0,1; B saw 0,2. Weights: c0 (.5,.5), c1 (1,0), c2 (0,1).
    // A p = [.25,.5,.25], B p = [.5,.25,.25]
    // log q = [.5 ln .25 + .5 ln .5, ln .5, ln .25] -> q ∝ [sqrt(.125), .5, .25]
    const out = getAggregator('class-weighted')({
      logits: [f([0, ln(2), 0]), f([ln(2), 0, 0])],
      numClasses: 3,
      tau: 1,
      histograms: [[10, 10, 0], [10, 0, 10]],
    });
    const z = Math.sqrt(0.125) + 0.5 + 0.25;
    close(out, [Math.sqrt(0.125) / z, 0.5 / z, 0.25 / z]);
  });

  it('class-weighted: a class nobody saw gets equal weights', () => {
    const out = getAggregator('class-weighted')({ logits: [f([0, 0]), f([0, ln(3)])], numClasses: 2, tau: 1, histograms: [[5, 0], [5, 0]] });
    // c1 weights (.5,.5): log q = [.5 ln .5 + .5 ln .25, .5 ln .5 + .5 ln .75]
    const q0 = Math.sqrt(0.5 * 0.25);
    const q1 = Math.sqrt(0.5 * 0.75);
    close(out, [q0 / (q0 + q1), q1 / (q0 + q1)]);
  });

  it('aligned: each device fixes only the differences between classes it saw', () => {
    // A saw 0,1 and says z0 - z1 = 2 (its 5 on class 2, never seen, is ignored); B saw 1,2 and says z2 - z1 = 1.
    // The rankings agree, so the least squares fit them exactly: q = softmax([2, 0, 1]), at any weights.
    const input = { logits: [f([2, 0, 5]), f([9, 0, 1])], numClasses: 3, histograms: [[10, 5, 0], [0, 5, 10]] };
    const softmax = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((a, u) => a + Math.exp(u), 0));
    close(getAggregator('aligned')({ ...input, tau: 1 }), softmax([2, 0, 1]));
    close(getAggregator('aligned')({ ...input, tau: 2 }), softmax([1, 0, 0.5]));
  });

  it('aligned: conflicting devices are weighted by how much of both classes each saw', () => {
    // Weights: c0 (.75, .25), c1 (.5, .5). Eliminating b_d, device d pulls z0 - z1 toward its own difference with
    // weight h_d = w_d0 w_d1 / (w_d0 + w_d1): h_A = .3, h_B = 1/6. A says 2, B says -1: (.6 - 1/6) / (.3 + 1/6) = 13/14.
    const out = getAggregator('aligned')({ logits: [f([2, 0]), f([0, 1])], numClasses: 2, tau: 1, histograms: [[30, 10], [10, 10]] });
    const q0 = 1 / (1 + Math.exp(-13 / 14));
    close(out, [q0, 1 - q0]);
  });

  it('aligned: a class nobody saw gets equal weights', () => {
    // Every weight is 1/2, so z0 - z1 is the mean of the devices' differences: (0 - ln 3) / 2.
    const out = getAggregator('aligned')({ logits: [f([0, 0]), f([0, ln(3)])], numClasses: 2, tau: 1, histograms: [[5, 0], [5, 0]] });
    close(out, [1 / (1 + Math.sqrt(3)), Math.sqrt(3) / (1 + Math.sqrt(3))]);
  });

  it('aligned: devices that share no class keep their own differences, and their raw logits between them', () => {
    // A knows 0,1 (z0 - z1 = 2), B knows 2,3 (z2 - z3 = 2); nothing links the two pairs, so the offsets stay 0
    // and z0 - z2 = 3 - 2 = 1, the logits as the devices sent them. Unseen classes' logits (±50, ±40) are ignored.
    const out = getAggregator('aligned')({ logits: [f([3, 1, 50, -50]), f([-40, 40, 2, 0])], numClasses: 4, tau: 1, histograms: [[5, 5, 0, 0], [0, 0, 5, 5]] });
    const e = [1, -1, 0, -2].map(Math.exp);
    const sum = e.reduce((a, b) => a + b);
    close(out, e.map((v) => v / sum));
  });

  it('aligned: a sneaker expert that never saw boots does not split the vote on a boot', () => {
    // Classes: sneaker, sandal, boot. A knows sneakers and sandals and calls the image a sneaker; B knows sneakers
    // and boots and ranks boot 3 above sneaker. Aligned: z = [0, -5, 3]. Class-weighted trusts A on sneakers
    // (weight 10/11) after normalising A's probabilities over the boot it never saw, and splits boot and sneaker.
    const input = { logits: [f([5, 0, -10]), f([0, -5, 3])], numClasses: 3, tau: 1, histograms: [[100, 100, 0], [10, 0, 100]] };
    const z = [0, -5, 3].map(Math.exp);
    const sum = z.reduce((a, b) => a + b);
    const alignedVote = getAggregator('aligned')(input);
    close(alignedVote, z.map((v) => v / sum));
    const classVote = getAggregator('class-weighted')(input);
    expect(classVote[2]).toBeLessThan(0.6);
    expect(classVote[0]).toBeGreaterThan(0.4);
    expect(alignedVote[2]).toBeGreaterThan(0.94);
  });

  // Three devices: p_A = [.9,.1], p_B = [.75,.25], p_C = [.2,.8]
  const three = { logits: [f([ln(9), 0]), f([ln(3), 0]), f([0, ln(4)])], numClasses: 2, tau: 1 };

  it('median: coordinate-wise median of log-probabilities, renormalised', () => {
    // medians: ln .75 and ln .25 -> [.75, .25]; one outlier device cannot drag it.
    close(getAggregator('median')(three), [0.75, 0.25]);
  });

  it('trimmed-mean: drops the extremes, and with no trimming is the geometric mean', () => {
    close(getAggregator('trimmed-mean')({ ...three, trim: 0.34 }), [0.75, 0.25]);
    const g0 = Math.cbrt(0.9 * 0.75 * 0.2);
    const g1 = Math.cbrt(0.1 * 0.25 * 0.8);
    close(getAggregator('trimmed-mean')({ ...three, trim: 0 }), [g0 / (g0 + g1), g1 / (g0 + g1)]);
  });

  it('every strategy returns distributions over several rows', () => {
    const logits = [f([1, 2, 3, -1, 0, 4]), f([0, 0, 1, 2, 2, 2]), f([5, 1, 0, 0, 3, 1])];
    for (const name of AGGREGATION_NAMES) {
      const out = getAggregator(name)({ logits, numClasses: 3, tau: 3, histograms: [[1, 1, 1], [1, 0, 1], [0, 1, 1]] });
      expect(out.length).toBe(6);
      for (let r = 0; r < 2; r++) expect(out[r * 3] + out[r * 3 + 1] + out[r * 3 + 2]).toBeCloseTo(1, 5);
    }
  });

  it('rejects unknown names, mismatched replies and missing histograms', () => {
    expect(() => getAggregator('vote')).toThrow(/unknown aggregation strategy "vote"; use one of mean-logits, mean-probs, class-weighted/);
    expect(() => getAggregator('mean-logits')({ logits: [f([1, 2]), f([1])], numClasses: 2, tau: 1 })).toThrow(/differ in size/);
    expect(() => getAggregator('class-weighted')(twoDevices)).toThrow(/needs one label histogram/);
    expect(() => getAggregator('aligned')(twoDevices)).toThrow(/aligned aggregation needs one label histogram/);
    expect(() => getAggregator('median')({ logits: [], numClasses: 2, tau: 1 })).toThrow(/at least one device/);
  });
});

describe('votes combined at another temperature (aggregateTargets)', () => {
  // Device A saw classes 0 and 1 alike, device B only class 1: class 0 is A's alone to vote on, class 1 both
  // devices' with weight 1/2. A leans to class 0 (logits [1.5, 0]); B is sure of class 1 (logits [0, 20]).
  const input = { logits: [f([1.5, 0]), f([0, 20])], numClasses: 2, histograms: [[10, 10], [0, 10]] };
  const logSigmoid = (x: number) => -Math.log1p(Math.exp(-x));
  // class-weighted at τ: log q0 = log σ(1.5/τ), log q1 = ½ log σ(−1.5/τ) + ½ log σ(20/τ)
  const votes = (tau: number) => [logSigmoid(1.5 / tau), 0.5 * logSigmoid(-1.5 / tau) + 0.5 * logSigmoid(20 / tau)];
  const softmax = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((a, b) => a + Math.exp(b), 0));

  it('at τ = 4 the class-weighted vote ranks class 1 first, at τ = 1 class 0', () => {
    const at4 = getAggregator('class-weighted')({ ...input, tau: 4 });
    close(at4, softmax(votes(4)));
    expect(at4[1]).toBeGreaterThan(at4[0]);
    const at1 = getAggregator('class-weighted')({ ...input, tau: 1 });
    expect(at1[0]).toBeGreaterThan(at1[1]);
  });

  it('voting at 1 and re-expressing at 4 keeps the vote at 1\'s ranking, softened', () => {
    // softmax(log q(1) / 4): the τ = 1 vote's log-probabilities divided by 4 (constants cancel in the softmax).
    const targets = aggregateTargets('class-weighted', { ...input, tau: 4 }, 1);
    close(targets, softmax(votes(1).map((v) => v / 4)));
    expect(targets[0]).toBeGreaterThan(targets[1]);
    expect(targets[0]).toBeLessThan(getAggregator('class-weighted')({ ...input, tau: 1 })[0]);
  });

  it('without a vote temperature, or with τ itself, is the strategy at τ', () => {
    for (const name of AGGREGATION_NAMES) {
      const plain = getAggregator(name)({ ...input, tau: 4 });
      expect(Array.from(aggregateTargets(name, { ...input, tau: 4 }))).toEqual(Array.from(plain));
      expect(Array.from(aggregateTargets(name, { ...input, tau: 4 }, 4))).toEqual(Array.from(plain));
    }
  });

  it('mean-logits does not depend on where the vote happens', () => {
    close(aggregateTargets('mean-logits', { ...input, tau: 4 }, 1), Array.from(getAggregator('mean-logits')({ ...input, tau: 4 })));
  });
});
