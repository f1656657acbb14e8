/**
 * End to end: `distillery coordinator start` in its own process and five `distillery agent start` processes (each bringing the cached teacher as its own model), three talking
 * MQTT through a real Mosquitto and two over WebSocket, run the digits scenario (fewer, shorter rounds).
 * One WebSocket agent is a black box (queries.gradients false): the coordinator estimates its gradients from
 * seeded probes that the agent expands itself. The student must land within 2 points of the in-process
 * engine's for the same seed; with float32 replies and every device answering in time it is in fact the
 * same run, weight for weight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../shared/compute/backend.js';
import { loadDataset } from '../../shared/data/registry.js';
import { partitionDataset } from '../../shared/data/partition.js';
import { buildModel } from '../../shared/models/build.js';
import { loadModel } from '../../shared/models/store.js';
import { accuracyOf } from '../../shared/train/fit.js';
import { generateKeyFile } from '../../shared/security/keyfile.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { zerothOrderPort } from '../../shared/distill/zeroth-order.js';
import { buildGenerator } from '../../coordinator/engine/generator.js';
import { Distiller } from '../../coordinator/engine/distiller.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { versionDir } from '../../coordinator/model-registry.js';
import { loadScenario } from '../../simulations/scenario.js';
import { prepareTeachers } from '../../simulations/teachers.js';
import { startMosquitto, type Mosquitto } from '../protocol/helpers/mosquitto.js';
import { startAgentProcess, startCoordinatorProcess, type JsonProcess } from './helpers/processes.js';

const SCENARIO = new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname;
const SEED = 1;
// The scenario's settings with fewer, shorter rounds, so the test fits in two minutes on two cores.
const SHORT = { rounds: 4, generatorSteps: 6, studentSteps: 60, batchSize: 64, studentBatchSize: 64 };
/** The device whose agent answers logits only. */
const BLACK_BOX = 4;

const tmp = mkdtempSync(join(tmpdir(), 'distillery-e2e-'));
const procs: JsonProcess[] = [];
let broker: Mosquitto;
let devices: { id: string; keyFile: string; pubFile: string }[];
let reference: { accuracy: number; weights: number[][]; seconds: number };

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await broker?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

beforeAll(async () => {
  broker = await startMosquitto();
  devices = [];
  for (let d = 0; d < 5; d++) {
    const keyFile = join(tmp, `device-${d}.key`);
    const { identity, publicPath } = await generateKeyFile(keyFile);
    devices.push({ id: identity.id, keyFile, pubFile: publicPath });
  }
  // The in-process reference: the same teachers (trained once and cached, then loaded by the agents),
  // ports in the coordinator's order (devices sorted by id).
  await initBackend(() => {});
  const s = loadScenario(SCENARIO);
  const { train, test } = loadDataset(s.dataset, { limit: s.limit, splitSeed: SEED });
  const parts = partitionDataset(train, { ...s.partition, seed: SEED });
  const { models } = await prepareTeachers(s, SEED, train, parts, () => {});
  const config = parseDistillConfig({ ...s.distill, ...SHORT });
  const order = devices.map((d, i) => ({ id: d.id, i })).sort((a, b) => (a.id < b.id ? -1 : 1));
  const ports = order.map(({ id, i }) => {
    const teacher = new LocalTeacher({ deviceId: id, model: models[i], labelHistogram: parts[i].histogram, blackBox: i === BLACK_BOX });
    return i === BLACK_BOX ? zerothOrderPort(teacher, { ...config.zerothOrder, seed: SEED }) : teacher;
  });
  const student = buildModel(s.studentSpec, { inputShape: train.sampleShape, numClasses: train.numClasses, seed: SEED });
  const generator = buildGenerator({ sampleShape: train.sampleShape, numClasses: train.numClasses, zDim: config.zDim, width: config.generatorWidth, seed: SEED });
  const t0 = performance.now();
  await new Distiller({ ports, student, generator, config, seed: SEED }).run();
  reference = { accuracy: accuracyOf(student, test), weights: student.getWeights().map((w) => Array.from(w.dataSync())), seconds: (performance.now() - t0) / 1000 };
}, 120_000);

describe('coordinator end to end', () => {
  it('distils the digits fleet over MQTT (Mosquitto) and ws to the in-process accuracy', async () => {
    const dataDir = join(tmp, 'data');
    const keyFile = join(tmp, 'coordinator.key');
    await generateKeyFile(keyFile);
    const config = {
      dataDir,
      fleet: 'e2e',
      keyFile,
      ws: { port: 0 },
      mqtt: { url: broker.url },
      http: { port: 0 },
      enrollment: { preapproved: devices.map((d) => d.pubFile) },
      job: { scenario: SCENARIO, seed: SEED, distill: SHORT, minDevices: 5, quorum: 0.6, deadlineMs: 20_000 },
    };
    const configFile = join(tmp, 'coordinator.json');
    writeFileSync(configFile, JSON.stringify(config));
    const t0 = performance.now();
    const coordinator = startCoordinatorProcess(configFile, ['--exit-when-done']);
    procs.push(coordinator);
    const started = await coordinator.waitFor((e) => e.msg === 'coordinator started', 30_000, 'start-up');
    devices.forEach((d, i) => {
      const url = i < 3 ? broker.url : (started.ws as string);
      procs.push(startAgentProcess(`agent-${i}`, { keyFile: d.keyFile, coordinatorPub: `${keyFile}.pub`, url, fleet: 'e2e', scenario: SCENARIO, seed: SEED, device: i, gradients: i !== BLACK_BOX }));
    });
    const starting = await coordinator.waitFor((e) => e.msg === 'job starting', 60_000, 'the job to start with five devices');
    expect(starting.blackBox).toEqual([devices[BLACK_BOX].id]);
    // Training runs in the engine's worker thread: the API must keep answering while rounds run.
    const polls: { ms: number; round: number; online: number }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = performance.now();
        const s = (await (await fetch(`${started.http}/api/status`)).json()) as { job: { round: number }; devices: { online: number } };
        polls.push({ ms: performance.now() - t, round: s.job.round, online: s.devices.online });
        await new Promise((r) => setTimeout(r, 200));
      }
    })().catch(() => {});
    const done = await coordinator.waitFor((e) => e.msg === 'job done', 90_000, 'the job to finish');
    polling = false;
    await poller;
    expect(await coordinator.exited).toBe(0);
    const wall = (performance.now() - t0) / 1000;

    // The coordinator's own score, and an independent one of the student it wrote.
    const { test } = loadDataset('digits', { splitSeed: SEED });
    const student = await loadModel(versionDir(join(dataDir, 'models'), 'digits-dir0.5', SHORT.rounds));
    const accuracy = accuracyOf(student, test);
    expect(done.accuracy).toBeCloseTo(accuracy, 10);
    const rounds = coordinator.events.filter((e) => e.msg === 'round done');
    const db = new Database(join(dataDir, 'fleet.db'), { readonly: true });
    const traffic = db.prepare('SELECT id, bytes_in AS up, bytes_out AS down, capabilities FROM devices ORDER BY id').all() as { id: string; up: number; down: number; capabilities: string | null }[];
    const audited = (db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
    db.close();
    console.log(
      [
        `e2e student ${(accuracy * 100).toFixed(2)}% vs in-process ${(reference.accuracy * 100).toFixed(2)}% (seed ${SEED}, ${SHORT.rounds} rounds)`,
        `round seconds: ${rounds.map((r) => (r.seconds as number).toFixed(1)).join(', ')} (in-process total ${reference.seconds.toFixed(1)} s; e2e wall ${wall.toFixed(1)} s incl. start-up)`,
        `missed replies per round: ${rounds.map((r) => r.missedReplies).join(', ')}`,
        `wire bytes per device up/down: ${traffic.map((t) => `${t.up}/${t.down}`).join(', ')}; audit rows ${audited}`,
        `API during training: ${polls.length} status polls, slowest ${Math.max(...polls.map((p) => p.ms)).toFixed(0)} ms, median ${polls.map((p) => p.ms).sort((a, b) => a - b)[polls.length >> 1].toFixed(0)} ms`,
      ].join('\n'),
    );
    expect(polls.length).toBeGreaterThan(10);
    expect(Math.max(...polls.map((p) => p.ms))).toBeLessThan(1000);
    expect(new Set(polls.map((p) => p.round)).size).toBeGreaterThan(2); // it saw rounds complete
    expect(polls.every((p) => p.online === 5)).toBe(true);
    expect(Math.abs(accuracy - reference.accuracy)).toBeLessThanOrEqual(0.02);
    if (rounds.every((r) => r.missedReplies === 0)) expect(student.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(reference.weights);
    expect(traffic).toHaveLength(5);
    for (const t of traffic) {
      expect(t.up).toBeGreaterThan(0);
      expect(JSON.parse(t.capabilities!).labelHistogram).toHaveLength(10);
    }
    // The black box got the same queries' inputs and a seed, not nine probes per input: its downlink is the
    // others' within their student probabilities, CE weights and targets, which it does not need.
    const blackBox = traffic.find((t) => t.id === devices[BLACK_BOX].id)!;
    expect(JSON.parse(blackBox.capabilities!).gradients).toBe(false);
    const whiteDown = Math.min(...traffic.filter((t) => t !== blackBox).map((t) => t.down));
    expect(blackBox.down).toBeLessThan(whiteDown);
    expect(blackBox.down).toBeGreaterThan(0.5 * whiteDown);
    // It answered every probe (1 + 8 rows of logits per input), which outweighs the others' input gradients.
    expect(blackBox.up).toBeGreaterThan(Math.max(...traffic.filter((t) => t !== blackBox).map((t) => t.up)));
    expect(audited).toBeGreaterThan(5 * SHORT.rounds * SHORT.generatorSteps * 2);
    // The final student was published, signed, to every agent, and each acknowledged it.
    expect(coordinator.events.find((e) => e.msg === 'model published')).toMatchObject({ modelId: 'digits-dir0.5', version: SHORT.rounds, acked: 5, failed: [] });
    for (const p of procs.slice(1)) expect(p.events.some((e) => e.msg === 'model activated' && e.version === SHORT.rounds)).toBe(true);
  }, 150_000);
});
