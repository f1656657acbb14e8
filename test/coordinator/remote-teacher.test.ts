/**
 * RemoteTeacherPort and serveTeacher: the TeacherPort across a real secure channel answers exactly what the
 * local teacher answers; failures come back as typed errors with the device's code; a distillation run
 * over the network produces bit-identical weights to the in-process run (float32), and float16 replies
 * still distil at about half the upload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../shared/models/build.js';
import { accuracyOf } from '../../shared/train/fit.js';
import { buildGenerator } from '../../coordinator/engine/generator.js';
import { Distiller } from '../../coordinator/engine/distiller.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { RemoteTeacherError } from '../../coordinator/remote-teacher.js';
import { TimeoutError } from '../../shared/transport/errors.js';
import type { TeacherPort } from '../../shared/distill/port.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { seededRandom } from '../../shared/random.js';
import { zerothOrderPort } from '../../shared/distill/zeroth-order.js';
import { signModel } from '../../shared/security/model-signature.js';
import { digitsFleet, STUDENT_SPEC, type Fleet } from '../distill/fleet-fixture.js';
import { remoteFleet, type RemoteFleet } from './helpers/remote-fleet.js';
import { proceduralImages } from '../../shared/distill/procedural.js';

let fleet: Fleet;
let net: RemoteFleet;
beforeAll(async () => {
  fleet = await digitsFleet(3, 30);
  net = remoteFleet(fleet.ports());
});
afterAll(() => net?.close());

const rnd = seededRandom(4);
const inputs = (n: number) => ({ shape: [n, 8, 8, 1], values: Float32Array.from({ length: n * 64 }, () => rnd.next()) });

describe('RemoteTeacherPort over serveTeacher', () => {
  it('answers info, logits and gradients exactly as the local teacher does', async () => {
    const local = fleet.ports()[1];
    const remote = net.ports()[1];
    expect(await remote.info()).toEqual(await local.info());
    const x = inputs(5);
    expect(await remote.logits({ inputs: x })).toEqual(await local.logits({ inputs: x }));
    const q = { inputs: x, targets: Int32Array.from([0, 1, 2, 3, 4]), sampleWeights: Float32Array.from([1, 0.5, 0, 1, 1]), studentProbs: { shape: [5, 10], values: new Float32Array(50).fill(0.1) }, weights: { ce: 1, bn: 1, adv: 0.5 } };
    expect(await remote.gradient(q)).toEqual(await local.gradient(q));
    // Per-class CE weights (the ensemble CE) travel too, and change the answer.
    const perClass = { ...q, classWeights: { shape: [5, 10], values: Float32Array.from({ length: 50 }, (_, k) => (k % 10 === (k / 10 | 0) ? 0.5 : -0.05)) } };
    const answer = await remote.gradient(perClass);
    expect(answer).toEqual(await local.gradient(perClass));
    expect(answer.loss.ce).not.toBeCloseTo((await local.gradient(q)).loss.ce, 3);
  });

  it('procedural images cross the wire as a seed and a count: the device labels the images the coordinator draws', async () => {
    const local = fleet.ports()[2];
    const remote = net.ports()[2];
    const spec = { seed: 1234, count: 7 };
    const none = { shape: [0, 8, 8, 1], values: new Float32Array(0) };
    const overWire = await remote.logits({ inputs: none, procedural: spec });
    expect(overWire.logits.shape).toEqual([7, 10]);
    expect(overWire).toEqual(await local.logits({ inputs: none, procedural: spec }));
    // The same answers as for the images themselves, sent whole.
    expect(overWire).toEqual(await local.logits({ inputs: { shape: [7, 8, 8, 1], values: proceduralImages(spec, [8, 8, 1]) } }));
    // With inputs too, the procedural rows follow the inputs' rows.
    const x = inputs(2);
    const both = await remote.logits({ inputs: x, procedural: spec });
    expect(both.logits.shape).toEqual([9, 10]);
    expect(Array.from(both.logits.values.slice(0, 20))).toEqual(Array.from((await local.logits({ inputs: x })).logits.values));
    await expect(remote.logits({ inputs: none, procedural: { seed: 1, count: 5000 } })).rejects.toThrow(/round\.query: body\.procedural\.count/);
    // A style's probabilities travel too, and the device draws the images of that style.
    const styled = { ...spec, mirror: 1, upright: 0.5 };
    expect(await remote.logits({ inputs: none, procedural: styled })).toEqual(await local.logits({ inputs: { shape: [7, 8, 8, 1], values: proceduralImages(styled, [8, 8, 1]) } }));
    await expect(remote.logits({ inputs: none, procedural: { ...spec, mirror: 3 } })).rejects.toThrow(/round\.query: body\.procedural\.mirror/);
    const surfaced = { ...spec, texture: 1, fill: 0.5 };
    expect(await remote.logits({ inputs: none, procedural: surfaced })).toEqual(await local.logits({ inputs: { shape: [7, 8, 8, 1], values: proceduralImages(surfaced, [8, 8, 1]) } }));
    await expect(remote.logits({ inputs: none, procedural: { ...spec, fill: -0.5 } })).rejects.toThrow(/round\.query: body\.procedural\.fill/);
    await expect(remote.logits({ inputs: x, procedural: spec, probes: { directions: 2, mu: 0.01, seed: 1 } })).rejects.toThrow(/body\.procedural: cannot be combined with probes/);
  });

  it('turns a device error into a RemoteTeacherError with the device code and reason', async () => {
    const [remote] = net.ports();
    const bad = remote.logits({ inputs: { shape: [2, 4, 4, 1], values: new Float32Array(32) } });
    await expect(bad).rejects.toBeInstanceOf(RemoteTeacherError);
    await expect(bad).rejects.toMatchObject({ code: 'teacher_failed', deviceId: net.ids[0], reason: expect.stringMatching(/do not match the teacher's input/) });
    const outOfRange = remote.gradient({ inputs: inputs(1), targets: Int32Array.from([12]), weights: { ce: 1, bn: 0, adv: 0 } });
    await expect(outOfRange).rejects.toMatchObject({ code: 'teacher_failed', reason: expect.stringMatching(/target class 12 is outside 0..9/) });
  });

  it('reports a black-box device as no_gradients, an unknown message as unsupported, silence as a timeout', async () => {
    const blackBox = new LocalTeacher({ deviceId: 'bb', model: fleet.models[0], labelHistogram: fleet.parts[0].histogram, blackBox: true });
    const other = remoteFleet([blackBox, async () => undefined, () => new Promise<undefined>(() => {})]);
    try {
      const [bb, mute, silent] = other.ports({ timeoutMs: 300 });
      await expect(bb.gradient({ inputs: inputs(1), targets: Int32Array.from([1]), weights: { ce: 1, bn: 0, adv: 0 } })).rejects.toMatchObject({ code: 'no_gradients' });
      expect((await bb.logits({ inputs: inputs(2) })).logits.shape).toEqual([2, 10]);
      // Seeded probes cross the wire as a seed: the device's answer is what it gives in process, bit for bit.
      const probed = { inputs: inputs(3), probes: { directions: 4, mu: 0.01, seed: 99 } };
      const overWire = await bb.logits(probed);
      expect(overWire.logits.shape).toEqual([15, 10]);
      expect(overWire).toEqual(await blackBox.logits(probed));
      const q = { inputs: inputs(4), targets: Int32Array.from([1, 2, 3, 4]), weights: { ce: 1, bn: 0, adv: 0 } };
      // The same teacher in process under the remote device's id, so both draw the same probe seed.
      const inProcess: TeacherPort = { deviceId: bb.deviceId, info: () => blackBox.info(), logits: (x) => blackBox.logits(x), gradient: (x) => blackBox.gradient(x) };
      expect(await zerothOrderPort(bb, { directions: 8, mu: 0.005, seed: 6 }).gradient(q)).toEqual(await zerothOrderPort(inProcess, { directions: 8, mu: 0.005, seed: 6 }).gradient(q));
      // Probes that would expand past a query's input limit are refused before they are sent.
      const huge = bb.logits({ inputs: { shape: [1024, 8, 8, 1], values: new Float32Array(1024 * 64) }, probes: { directions: 64, mu: 0.01, seed: 1 } });
      await expect(huge).rejects.toThrow(/round\.query: body\.probes\.directions: 64 directions expand the inputs to 4259840 values, more than the 4194304/);
      const model = signModel({ modelId: 'student', version: 1, tensors: [] }, other.keys.coordinator.sign.secretKey);
      const unsupported = await other.hub.request(other.ids[0], { type: 'model.publish', body: model });
      expect(unsupported).toMatchObject({ type: 'error', body: { code: 'unsupported' } });
      const pong = await other.hub.request(other.ids[0], { type: 'health.ping', body: {} });
      expect(pong.type).toBe('health.pong');
      await expect(mute.info()).rejects.toMatchObject({ code: 'no_answer' });
      await expect(silent.info()).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      await other.close();
    }
  });
});

describe('distillation over the network', () => {
  const config = parseDistillConfig({ rounds: 4, generatorSteps: 6, studentSteps: 60, batchSize: 64, studentBatchSize: 64, warmupRounds: 1 });
  async function distill(ports: TeacherPort[]) {
    const student = buildModel(STUDENT_SPEC, { inputShape: [8, 8, 1], numClasses: 10, seed: 7 });
    const generator = buildGenerator({ sampleShape: [8, 8, 1], numClasses: 10, zDim: config.zDim, seed: 7 });
    net.traffic.reset();
    await new Distiller({ ports, student, generator, config, seed: 7 }).run();
    const up = net.ids.reduce((a, id) => a + net.traffic.get(id).bytesIn, 0) / net.ids.length;
    return { weights: student.getWeights().map((w) => Array.from(w.dataSync())), acc: accuracyOf(student, fleet.test), up };
  }

  it('gives bit-identical weights to the in-process run with float32 replies; float16 replies halve the upload and still distil', async () => {
    const local = await distill(fleet.ports());
    const remote = await distill(net.ports());
    expect(remote.weights).toEqual(local.weights);
    const half = await distill(net.ports({ replyDtype: 'float16' }));
    console.log(`student accuracy: in-process ${local.acc.toFixed(4)}, remote float32 ${remote.acc.toFixed(4)}, remote float16 ${half.acc.toFixed(4)}; wire bytes up per device: float32 ${remote.up}, float16 ${half.up}`);
    // Short runs like this one swing by several points with any perturbation (measured: float32 0.450,
    // float16 0.530), so the float16 claim here is that it still distils, far above chance (0.10).
    expect(half.acc).toBeGreaterThan(0.3);
    expect(half.up).toBeLessThan(remote.up * 0.6);
  });
});
