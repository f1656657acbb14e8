/**
 * The full digits scenario (20 rounds) through the coordinator service: a coordinator process and five
 * agent processes (three on MQTT through Mosquitto, two on ws), against the in-process engine for the same
 * seed and device order. Writes bench/results/coordinator.json.
 *
 *   npx tsx bench/coordinator.ts [--rounds n] [--float16]
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { partitionDataset } from '../shared/data/partition.js';
import { buildModel } from '../shared/models/build.js';
import { loadModel } from '../shared/models/store.js';
import { accuracyOf } from '../shared/train/fit.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { generateKeyFile } from '../shared/security/keyfile.js';
import { LocalTeacher } from '../edge-agent/teacher/local-teacher.js';
import { generatorFor } from '../coordinator/engine/generator.js';
import { Distiller } from '../coordinator/engine/distiller.js';
import { versionDir } from '../coordinator/model-registry.js';
import { loadScenario } from '../simulations/scenario.js';
import { prepareTeachers } from '../simulations/teachers.js';
import { startMosquitto } from '../test/protocol/helpers/mosquitto.js';
import { startAgentProcess, startCoordinatorProcess, type JsonProcess } from '../test/e2e/helpers/processes.js';

const args = process.argv.slice(2);
const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : undefined;
const replyDtype = args.includes('--float16') ? 'float16' : 'float32';
const SCENARIO = new URL('../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname;
const SEED = 1;
const tmp = mkdtempSync(join(tmpdir(), 'distillery-bench-coordinator-'));
const procs: JsonProcess[] = [];
const broker = await startMosquitto();
try {
  await initBackend(() => {});
  const s = loadScenario(SCENARIO);
  const distill = { ...s.distill, ...(rounds ? { rounds } : {}) };
  const { train, test } = loadDataset(s.dataset, { limit: s.limit, splitSeed: SEED });
  const parts = partitionDataset(train, { ...s.partition, seed: SEED });
  const { models } = await prepareTeachers(s, SEED, train, parts, (l) => console.log(l));
  // Keys sorted by id, so device i is the coordinator's i-th port, as in `distillery distill`.
  const keys: Awaited<ReturnType<typeof generateKeyFile>>[] = [];
  for (let d = 0; d < 5; d++) keys.push(await generateKeyFile(join(tmp, `k${d}.key`)));
  keys.sort((a, b) => (a.identity.id < b.identity.id ? -1 : 1));

  const t0 = performance.now();
  const student = buildModel(s.studentSpec, { inputShape: train.sampleShape, numClasses: train.numClasses, seed: SEED });
  const generator = generatorFor(distill, train.sampleShape, train.numClasses, SEED);
  const ports = models.map((model, d) => new LocalTeacher({ deviceId: keys[d].identity.id, model, labelHistogram: parts[d].histogram }));
  await new Distiller({ ports, student, generator, config: distill, seed: SEED }).run();
  const inProcess = { accuracy: accuracyOf(student, test), seconds: (performance.now() - t0) / 1000 };
  console.log(`in-process: ${(inProcess.accuracy * 100).toFixed(2)}% in ${inProcess.seconds.toFixed(0)} s`);

  const dataDir = join(tmp, 'data');
  const keyFile = join(tmp, 'coordinator.key');
  await generateKeyFile(keyFile);
  const configFile = join(tmp, 'coordinator.json');
  writeFileSync(configFile, JSON.stringify({
    dataDir, fleet: 'bench', keyFile, ws: { port: 0 }, mqtt: { url: broker.url }, http: { enabled: false },
    enrollment: { preapproved: keys.map((k) => k.publicPath) },
    job: { scenario: SCENARIO, seed: SEED, distill: rounds ? { rounds } : {}, minDevices: 5, quorum: 0.6, deadlineMs: 20_000, replyDtype },
  }));
  const t1 = performance.now();
  const coordinator = startCoordinatorProcess(configFile, ['--exit-when-done']);
  procs.push(coordinator);
  const started = await coordinator.waitFor((e) => e.msg === 'coordinator started', 60_000, 'start-up');
  keys.forEach((k, d) => procs.push(startAgentProcess(`agent-${d}`, { keyFile: k.path, coordinatorPub: `${keyFile}.pub`, url: d < 3 ? broker.url : (started.ws as string), fleet: 'bench', scenario: SCENARIO, seed: SEED, device: d })));
  await coordinator.waitFor((e) => e.msg === 'job done', 3_600_000, 'the job');
  await coordinator.exited;
  const wallSeconds = (performance.now() - t1) / 1000;
  const final = await loadModel(versionDir(join(dataDir, 'models'), s.name, distill.rounds));
  const same = JSON.stringify(final.getWeights().map((w) => Array.from(w.dataSync()))) === JSON.stringify(student.getWeights().map((w) => Array.from(w.dataSync())));
  const roundsDone = coordinator.events.filter((e) => e.msg === 'round done');
  const db = new Database(join(dataDir, 'fleet.db'), { readonly: true });
  const bytes = db.prepare('SELECT bytes_in AS up, bytes_out AS down FROM devices ORDER BY id').all();
  db.close();
  const result = {
    scenario: s.name, seed: SEED, rounds: distill.rounds, replyDtype,
    inProcess,
    e2e: { accuracy: accuracyOf(final, test), identicalWeights: same, wallSeconds, roundSeconds: roundsDone.map((r) => r.seconds), missedReplies: roundsDone.map((r) => r.missedReplies), bytesPerDevice: bytes },
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileAtomic(new URL(`./results/coordinator${replyDtype === 'float16' ? '-float16' : ''}.json`, import.meta.url).pathname, JSON.stringify(result, null, 2) + '\n');
} finally {
  for (const p of procs) p.kill('SIGKILL');
  await broker.stop();
  rmSync(tmp, { recursive: true, force: true });
}
