/**
 * Seeded zeroth-order probes: a black-box device that expands x into x + mu·u_k from a seed answers exactly
 * what it answers when the coordinator sends every probe, so the gradient estimate is bit-identical, while
 * only the inputs and a seed go down. Bad probe settings are refused with the field named.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../shared/random.js';
import { zerothOrderPort } from '../../shared/distill/zeroth-order.js';
import { expandProbes, MAX_PROBE_DIRECTIONS, probeSeed, seededProbeDirections, seededProbeInputs, type ProbeSpec } from '../../shared/distill/probes.js';
import type { LogitsQuery, TeacherPort } from '../../shared/distill/port.js';
import { accountedPort, emptyTraffic, totalBytes } from '../../coordinator/engine/accounting.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { digitsFleet, type Fleet } from './fleet-fixture.js';

let fleet: Fleet;
beforeAll(async () => {
  fleet = await digitsFleet(1, 3);
});

const rnd = seededRandom(8);
const batch = (n: number) => ({ shape: [n, 8, 8, 1], values: Float32Array.from({ length: n * 64 }, () => rnd.next()) });
const blackBox = () => new LocalTeacher({ deviceId: 'bb', model: fleet.models[0], labelHistogram: fleet.parts[0].histogram, blackBox: true });

/** A port that records the logits queries it passes on. */
function recording(inner: TeacherPort, seen: LogitsQuery[]): TeacherPort {
  return { deviceId: inner.deviceId, info: () => inner.info(), gradient: (q) => inner.gradient(q), logits: (q) => (seen.push(q), inner.logits(q)) };
}

describe('seeded probes', () => {
  it('expand x into x and K rows at distance mu along unit directions, the same for the same seed', () => {
    const x = batch(3);
    const spec: ProbeSpec = { directions: 4, mu: 0.01, seed: 77 };
    const probes = seededProbeInputs(x, spec);
    expect(probes.shape).toEqual([15, 8, 8, 1]);
    expect(probes.values.subarray(0, 192)).toEqual(x.values);
    for (let row = 3; row < 15; row++) {
      let sq = 0;
      for (let j = 0; j < 64; j++) sq += (probes.values[row * 64 + j] - x.values[(row % 3) * 64 + j]) ** 2;
      expect(Math.sqrt(sq)).toBeCloseTo(0.01, 5);
    }
    expect(seededProbeInputs(x, spec)).toEqual(probes);
    expect(seededProbeInputs(x, { ...spec, seed: 78 }).values).not.toEqual(probes.values);
    // The device's expansion is the explicit one with the seeded directions.
    expect(expandProbes(x, 0.01, seededProbeDirections(3, 64, spec))).toEqual(probes);
  });

  it('give the device the same rows to answer as explicit probes, bit for bit', async () => {
    const device = blackBox();
    const x = batch(6);
    const spec: ProbeSpec = { directions: 8, mu: 0.005, seed: 1234 };
    const seeded = await device.logits({ inputs: x, probes: spec });
    const explicit = await device.logits({ inputs: seededProbeInputs(x, spec) });
    expect(seeded.logits.shape).toEqual([54, 10]);
    expect(seeded).toEqual(explicit);
  });

  it('make the same zeroth-order gradient as sending every probe, for 1/(K + 1) of the downlink', async () => {
    const K = 8;
    const sent: LogitsQuery[] = [];
    const seededTraffic = emptyTraffic();
    const explicitTraffic = emptyTraffic();
    const seededPort = zerothOrderPort(recording(accountedPort(blackBox(), seededTraffic), sent), { directions: K, mu: 0.005, seed: 3 });
    const explicitPort = zerothOrderPort(accountedPort(blackBox(), explicitTraffic), { directions: K, mu: 0.005, seed: 3, seeded: false });
    const n = 16;
    const query = { inputs: batch(n), targets: Int32Array.from({ length: n }, (_, i) => i % 10), weights: { ce: 1, bn: 0, adv: 0 } };
    const a = await seededPort.gradient(query);
    expect(sent).toHaveLength(1);
    expect(sent[0].probes).toEqual({ directions: K, mu: 0.005, seed: probeSeed(3, 'bb', query.inputs.values) });
    expect(sent[0].inputs.shape).toEqual([n, 8, 8, 1]);
    expect(await explicitPort.gradient(query)).toEqual(a);
    const down = { seeded: totalBytes(seededTraffic.down), explicit: totalBytes(explicitTraffic.down) };
    expect(down.seeded).toBe(n * 64 * 4 + 4 * 4 + 12);
    expect(down.explicit).toBe((K + 1) * n * 64 * 4 + 4 * 4);
    expect(totalBytes(seededTraffic.up)).toBe(totalBytes(explicitTraffic.up));
  });

  it('take their seed from the run, the device and the inputs alone, so a resumed run draws the same probes', () => {
    const x = batch(4).values;
    const seed = probeSeed(3, 'device-0', x);
    expect(probeSeed(3, 'device-0', Float32Array.from(x))).toBe(seed);
    expect(probeSeed(4, 'device-0', x)).not.toBe(seed);
    expect(probeSeed(3, 'device-1', x)).not.toBe(seed);
    const moved = Float32Array.from(x);
    moved[100] += 1e-6;
    expect(probeSeed(3, 'device-0', moved)).not.toBe(seed);
  });

  it('are refused with the field named when out of range', async () => {
    const device = blackBox();
    const x = batch(2);
    await expect(device.logits({ inputs: x, probes: { directions: 0, mu: 0.01, seed: 1 } })).rejects.toThrow(/device bb: probes.directions must be an integer in 1..64, got 0/);
    await expect(device.logits({ inputs: x, probes: { directions: MAX_PROBE_DIRECTIONS + 1, mu: 0.01, seed: 1 } })).rejects.toThrow(/probes.directions/);
    await expect(device.logits({ inputs: x, probes: { directions: 2, mu: 0, seed: 1 } })).rejects.toThrow(/probes.mu must be a finite number > 0, got 0/);
    await expect(device.logits({ inputs: x, probes: { directions: 2, mu: 0.01, seed: -1 } })).rejects.toThrow(/probes.seed must be an integer/);
  });

  it('are a zerothOrder setting, validated with the scenario', () => {
    expect(parseDistillConfig({}).zerothOrder).toEqual({ directions: 8, mu: 0.005, seeded: true });
    expect(parseDistillConfig({ zerothOrder: { seeded: false } }).zerothOrder).toEqual({ directions: 8, mu: 0.005, seeded: false });
    expect(() => parseDistillConfig({ zerothOrder: { seeded: 'yes' } })).toThrow(/zerothOrder.seeded: must be true or false, got "yes"/);
    expect(() => parseDistillConfig({ zerothOrder: { directions: 100 } })).toThrow(/zerothOrder.directions: a device expands at most 64 seeded directions/);
    expect(parseDistillConfig({ zerothOrder: { directions: 100, seeded: false } }).zerothOrder.directions).toBe(100);
    expect(() => parseDistillConfig({ zerothOrder: { dirs: 4 } })).toThrow(/zerothOrder.dirs: unknown setting; valid: directions, mu, seeded/);
  });
});
