/** Zeroth-order (forward-difference) gradients of a black-box teacher point the same way as the true ones. */
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../shared/random.js';
import { zerothOrderPort } from '../../shared/distill/zeroth-order.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { digitsFleet, type Fleet } from './fleet-fixture.js';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await digitsFleet(1, 3);
});

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

/** The first device's teacher as a white-box device and, behind forward differences, as a black box. */
function whiteAndBlack(directions: number, seed: number) {
  const model = fleet.models[0];
  const white = new LocalTeacher({ deviceId: 'w', model, labelHistogram: fleet.parts[0].histogram });
  const black = zerothOrderPort(new LocalTeacher({ deviceId: 'b', model, labelHistogram: fleet.parts[0].histogram, blackBox: true }), { directions, mu: 1e-3, seed });
  return { white, black };
}

/** n random 8×8 digit-shaped inputs. */
function randomInputs(seed: number, n: number) {
  const rng = seededRandom(seed);
  return { shape: [n, 8, 8, 1], values: Float32Array.from({ length: n * 64 }, () => rng.next()) };
}

describe('zeroth-order gradients', () => {
  it('agree in direction with the white-box gradient and cost one round trip', async () => {
    const model = fleet.models[0];
    const white = new LocalTeacher({ deviceId: 'w', model, labelHistogram: fleet.parts[0].histogram });
    let calls = 0;
    const blackInner = new LocalTeacher({ deviceId: 'b', model, labelHistogram: fleet.parts[0].histogram, blackBox: true });
    const counted = { ...blackInner, deviceId: 'b', info: () => blackInner.info(), gradient: () => blackInner.gradient({} as never), logits: (q: Parameters<typeof blackInner.logits>[0]) => (calls++, blackInner.logits(q)) };
    const black = zerothOrderPort(counted, { directions: 64, mu: 1e-3, seed: 1 });
    await expect(blackInner.gradient({} as never)).rejects.toThrow(/black-box teacher: it answers logits only/);
    const inputs = randomInputs(4, 4);
    const query = { inputs, targets: Int32Array.from([0, 3, 5, 9]), weights: { ce: 1, bn: 0, adv: 0 } };
    const exact = await white.gradient(query);
    const estimate = await black.gradient(query);
    expect(calls).toBe(1);
    expect(cosine(exact.inputGradient.values, estimate.inputGradient.values)).toBeGreaterThan(0.5);
    // Same teacher, same inputs: the logits agree up to float summation order (probes run in a larger batch).
    estimate.logits.values.forEach((v, i) => expect(v).toBeCloseTo(exact.logits.values[i], 4));
  });

  it('report the CE and disagreement terms at x as a white-box device does', async () => {
    const { white, black } = whiteAndBlack(4, 3);
    const n = 4;
    const inputs = randomInputs(6, n);
    const studentProbs = { shape: [n, 10], values: new Float32Array(n * 10).fill(0.1) };
    const query = { inputs, targets: Int32Array.from([1, 3, 5, 7]), studentProbs, weights: { ce: 2, bn: 0, adv: 0.5 } };
    const exact = await white.gradient(query);
    const estimate = await black.gradient(query);
    expect(exact.loss.adv).toBeGreaterThan(0.1);
    expect(estimate.loss.ce).toBeCloseTo(exact.loss.ce, 4);
    expect(estimate.loss.adv).toBeCloseTo(exact.loss.adv, 4);
    expect(estimate.loss.bn).toBe(0);
  });

  it('estimate the per-class weighted CE (classWeights) too, and its value matches the white-box one', async () => {
    const { white, black } = whiteAndBlack(64, 2);
    const n = 4;
    const inputs = randomInputs(5, n);
    // Signed weights, as the ensemble CE sends: + on the asked class, − on the others.
    const classWeights = { shape: [n, 10], values: Float32Array.from({ length: n * 10 }, (_, k) => (k % 10 === (k / 10 | 0) * 2 ? 0.6 : -0.05)) };
    const query = { inputs, targets: Int32Array.from([0, 2, 4, 6]), classWeights, weights: { ce: 1, bn: 0, adv: 0 } };
    const exact = await white.gradient(query);
    const estimate = await black.gradient(query);
    expect(estimate.loss.ce).toBeCloseTo(exact.loss.ce, 4);
    expect(cosine(exact.inputGradient.values, estimate.inputGradient.values)).toBeGreaterThan(0.5);
    // Different from the hard-label CE's gradient: the weights do enter the loss.
    const hard = await white.gradient({ ...query, classWeights: undefined });
    expect(Math.abs(hard.loss.ce - exact.loss.ce)).toBeGreaterThan(1e-3);
    await expect(white.gradient({ ...query, classWeights: { shape: [n, 3], values: new Float32Array(n * 3) } })).rejects.toThrow(/classWeights must be \[4, 10\], got \[4,3\]/);
  });
});
