/**
 * Durability: a real coordinator process is SIGKILLed at several points (mid-queries before any checkpoint,
 * during the student steps, right after a checkpoint), stopped once with SIGTERM mid-round, and restarted
 * each time with the same command. Every round's student on disk stays loadable, the checkpoint and the
 * SQLite registry stay readable, and the final student is bit-identical to an uninterrupted run's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { loadDataset } from '../../shared/data/registry.js';
import { partitionDataset } from '../../shared/data/partition.js';
import { buildModel } from '../../shared/models/build.js';
import { loadModel } from '../../shared/models/store.js';
import { generateKeyFile, loadKeyFile, pinnedDirectory, SecureChannel, publicIdentity, type Identity } from '../../shared/security/index.js';
import { connectWsSpoke, createTransport, type Transport } from '../../shared/transport/index.js';
import { LocalTeacher } from '../../edge-agent/teacher/local-teacher.js';
import { serveTeacher } from '../../edge-agent/serve-teacher.js';
import { buildGenerator } from '../../coordinator/engine/generator.js';
import { Distiller } from '../../coordinator/engine/distiller.js';
import { parseDistillConfig } from '../../coordinator/engine/config.js';
import { versionDir } from '../../coordinator/model-registry.js';
import { loadScenario } from '../../simulations/scenario.js';
import { prepareTeachers } from '../../simulations/teachers.js';
import { parseQuantized } from '../../shared/quantize/inference.js';
import { startCoordinatorProcess, type JsonProcess } from './helpers/processes.js';
import { freePort } from '../protocol/helpers/mosquitto.js';

const SCENARIO = new URL('../../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname;
const SEED = 2;
const SHORT = { rounds: 4, generatorSteps: 4, studentSteps: 30, batchSize: 32, studentBatchSize: 32 };
const DEVICES = 3;

const tmp = mkdtempSync(join(tmpdir(), 'distillery-durability-'));
const dataDir = join(tmp, 'data');
const keyFile = join(tmp, 'coordinator.key');
const configFile = join(tmp, 'coordinator.json');
const agents: Transport[] = [];
let current: JsonProcess | undefined;
let reference: number[][];

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

beforeAll(async () => {
  await initBackend(() => {});
  await generateKeyFile(keyFile);
  const coordinator = publicIdentity(await loadKeyFile(keyFile));
  const s = loadScenario(SCENARIO);
  const { train } = loadDataset(s.dataset, { splitSeed: SEED });
  const parts = partitionDataset(train, { ...s.partition, seed: SEED });
  const { models } = await prepareTeachers(s, SEED, train, parts, () => {});
  const identities: Identity[] = [];
  for (let d = 0; d < DEVICES; d++) identities.push(await loadKeyFile((await generateKeyFile(join(tmp, `device-${d}.key`))).path));
  const teachers = identities.map((id, d) => new LocalTeacher({ deviceId: id.id, model: models[d], labelHistogram: parts[d].histogram }));

  // The uninterrupted run, in process, devices in the coordinator's order (sorted by id); first, because
  // the agents below share this thread and would answer slowly while it trains.
  const config = parseDistillConfig({ ...s.distill, ...SHORT });
  const student = buildModel(s.studentSpec, { inputShape: train.sampleShape, numClasses: train.numClasses, seed: SEED });
  const generator = buildGenerator({ sampleShape: train.sampleShape, numClasses: train.numClasses, zDim: config.zDim, width: config.generatorWidth, seed: SEED });
  const ports = [...teachers].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
  await new Distiller({ ports, student, generator, config, seed: SEED }).run();
  reference = weightsOf(student);

  const port = await freePort();
  writeFileSync(configFile, JSON.stringify({
    dataDir, fleet: 'durable', keyFile, ws: { port }, mqtt: { enabled: false }, http: { enabled: false }, logLevel: 'debug',
    enrollment: { preapproved: identities.map((_, d) => join(tmp, `device-${d}.key.pub`)) },
    // Quorum = every device: each round waits for all three, so the resumed run can be compared bit for bit.
    job: { scenario: SCENARIO, seed: SEED, distill: SHORT, minDevices: DEVICES, quorum: DEVICES, deadlineMs: 60_000, retryMs: 200 },
  }));
  current = startCoordinatorProcess(configFile);
  await current.waitFor((e) => e.msg === 'coordinator started', 30_000, 'start-up');
  // In-process agents over ws; their spokes reconnect by themselves whenever the coordinator comes back.
  for (const [d, id] of identities.entries()) {
    const link = await connectWsSpoke({ url: `ws://127.0.0.1:${port}/distillery`, id: id.id, hubId: coordinator.id, backoff: { initialMs: 50, maxMs: 300 } });
    const t = createTransport(link, new SecureChannel({ identity: id, directory: pinnedDirectory([coordinator]) }), { logger: { warn: () => {} } });
    serveTeacher(t, teachers[d]);
    agents.push(t);
    await t.request(coordinator.id, { type: 'enroll.request', body: {} });
  }
}, 120_000);

afterAll(async () => {
  current?.kill('SIGKILL');
  await current?.exited;
  await Promise.all(agents.map((a) => a.close()));
  rmSync(tmp, { recursive: true, force: true });
});

/** What a crash must never break: the checkpoint, every checkpointed round's student, the database. */
async function checkOnDisk(): Promise<number> {
  const stateFile = join(dataDir, 'job', 'checkpoint', 'state.json');
  const round = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { state: { round: number } }).state.round : 0;
  for (let r = 1; r <= round; r++) {
    const dir = versionDir(join(dataDir, 'models'), 'digits-dir0.5', r);
    expect((await loadModel(dir)).countParams()).toBeGreaterThan(0);
    expect(parseQuantized(readFileSync(join(dir, 'student.dq8'))).ops.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(dir, 'lineage.json'), 'utf8'))).toMatchObject({ version: r, parent: r > 1 ? r - 1 : null });
    expect(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')).accuracy).toBeGreaterThan(0);
  }
  const db = new Database(join(dataDir, 'fleet.db'), { readonly: true });
  expect((db.prepare('SELECT COUNT(*) AS n FROM devices WHERE status = ?').get('active') as { n: number }).n).toBe(DEVICES);
  db.close();
  return round;
}

const at = (round: number, step: number) => (e: Record<string, unknown>) => e.msg === 'step' && e.round === round && (e.step as number) >= step;

describe('coordinator durability', () => {
  it('resumes after SIGKILL at several points and a SIGTERM, to the uninterrupted run\'s exact student', async () => {
    const interruptions: [string, (e: Record<string, unknown>) => boolean, NodeJS.Signals][] = [
      ['mid-queries, round 1, before any checkpoint', at(1, 2), 'SIGKILL'],
      ['student steps of round 2 (after its last query)', at(2, SHORT.generatorSteps), 'SIGKILL'],
      ['right after round 2 was checkpointed', (e) => e.msg === 'round done' && e.round === 2, 'SIGKILL'],
      ['graceful stop mid-round 3', at(3, 1), 'SIGTERM'],
    ];
    const log: string[] = [];
    for (const [what, when, signal] of interruptions) {
      const p = current!;
      await p.waitFor(when, 60_000, what);
      p.kill(signal);
      const code = await p.exited;
      const round = await checkOnDisk();
      log.push(`${what}: ${signal} -> exit ${code}, checkpoint at round ${round}`);
      if (signal === 'SIGTERM') {
        expect(code).toBe(0);
        expect(p.events.some((e) => e.msg === 'round done' && e.round === 3)).toBe(true); // it finished the round first
        expect(round).toBe(3);
      }
      current = startCoordinatorProcess(configFile, ['--exit-when-done']);
      const ready = await current.waitFor((e) => e.msg === 'engine ready', 60_000, 'the engine to resume');
      expect(ready.resumedFrom).toBe(round);
    }
    await current!.waitFor((e) => e.msg === 'job done', 60_000, 'the job to finish');
    expect(await current!.exited).toBe(0);
    console.log(log.join('\n'));
    expect(await checkOnDisk()).toBe(SHORT.rounds);
    const student = await loadModel(versionDir(join(dataDir, 'models'), 'digits-dir0.5', SHORT.rounds));
    expect(weightsOf(student)).toEqual(reference);
    expect(readdirSync(join(dataDir, 'job', 'checkpoint')).filter((f) => f.startsWith('tensors-'))).toHaveLength(1);
    expect(readdirSync(join(dataDir, 'models', 'digits-dir0.5'))).toEqual(['v00001', 'v00002', 'v00003', 'v00004']); // no torn leftovers
  }, 150_000);
});
