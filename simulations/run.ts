/**
 * Runs one scenario for one seed, in process: the real engine and the real device-side code, wired
 * through in-memory TeacherPorts. Every phase is resumable: teachers are cached, the distillation
 * checkpoints each round, and finished baselines are kept in <out>/baselines.json (the slow FedAvg and
 * centralized ones also in the cache, for other output folders: baseline-cache.ts). The baselines that train
 * run on a thread of their own during the distillation (background-baselines.ts).
 */
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeBackend, initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { partitionDataset } from '../shared/data/partition.js';
import { buildModel, modelSize } from '../shared/models/build.js';
import { saveModel } from '../shared/models/store.js';
import { accuracyOf } from '../shared/train/fit.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { zerothOrderPort } from '../shared/distill/zeroth-order.js';
import { float16Port } from '../shared/distill/float16-port.js';
import type { TeacherPort } from '../shared/distill/port.js';
import { LocalTeacher } from '../edge-agent/teacher/local-teacher.js';
import { generatorFor } from '../coordinator/engine/generator.js';
import { Distiller } from '../coordinator/engine/distiller.js';
import { DirectoryCheckpoints } from '../coordinator/engine/checkpoint.js';
import { accountedPort, emptyTraffic, totalBytes, type Traffic } from '../coordinator/engine/accounting.js';
import type { Scenario } from './scenario.js';
import { deviceClassStats, prepareTeachers, teacherKey } from './teachers.js';
import { claimOutputFolder } from './output-folder.js';
import { averagedAccuracy, ensembleAccuracies } from './baselines.js';
import { AGGREGATION_NAMES } from '../shared/distill/aggregation/index.js';
import { trainBaseline, type TrainedBaseline } from './baseline-cache.js';
import { baselinesInBackground } from './background-baselines.js';
import { writeSamples } from '../coordinator/samples.js';
import { progressBar } from './progress.js';
import { workerFleet } from './worker-ports.js';

export interface Report {
  scenario: string;
  seed: number;
  teachers: { device: number; spec: unknown; acc: number; samples: number; params: number }[];
  /** The ensemble under the run's own aggregation strategy: the vote the student is distilled from. */
  ensembleAcc: number;
  /** The same teachers' ensemble under every registered strategy (the run's included), for comparison. */
  ensembleByStrategy: Record<string, number>;
  studentAcc: number;
  student: { spec: unknown; params: number; bytes: number };
  baselines: { localMean: number; fedavgOneShot: number | null; averagedTeachers: number | null; fedavgMultiRound: number; centralized: number };
  bytes: { perDeviceUp: number[]; perDeviceDown: number[]; byKind: Traffic[] };
  queries: number;
  /** Per round: the published student's accuracy (the weight average's when studentEma is on). */
  rounds: { round: number; studentAcc?: number; seconds: number }[];
  /** This process's seconds, start to report; a resumed run's earlier processes are in rounds[].seconds only. */
  wallSeconds: number;
  phases: Record<string, number>;
  /** The round the checkpoint held when this process started, where it resumed a run (absent for a fresh run). */
  resumedFromRound?: number;
}

/**
 * Where each trained baseline is kept in <out>/baselines.json. One-shot FedAvg is kept as fedavgOneShotShared:
 * files from before it was trained from a shared initialisation hold an average of the teachers under the old
 * name, fedavgOneShot, which must not be mistaken for it.
 */
const BASELINE_KEYS: Record<TrainedBaseline, string> = { fedavgOneShot: 'fedavgOneShotShared', fedavgMultiRound: 'fedavgMultiRound', centralized: 'centralized' };

export interface RunOptions {
  scenario: Scenario;
  seed: number;
  out: string;
  /** Skip the (slow) FedAvg and centralized baselines. */
  skipBaselines?: boolean;
  /** Worker threads hosting the devices (0: devices answer on the coordinator's thread). */
  workers?: number;
  /** Round every tensor crossing the port through float16 (the accuracy cost of a float16 wire format). */
  float16?: boolean;
  /** Save the student's own weights after every round in <out>/students/round-<r>/ (bench:round-average). */
  keepStudents?: boolean;
  log?: (line: string) => void;
}

export async function runScenario(o: RunOptions): Promise<Report> {
  const s = o.scenario;
  const bar = progressBar();
  const log = o.log ?? ((l: string) => bar.line(l));
  const started = performance.now();
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    phases[name] = (phases[name] ?? 0) + (performance.now() - t0) / 1000;
    return r;
  };
  mkdirSync(o.out, { recursive: true });
  // The student and generator steps run here while the device threads wait: give XNNPACK every core.
  const backend = await initBackend(() => {}, { threads: 'auto' });
  const { train, test } = await phase('data', () => loadDataset(s.dataset, { limit: s.limit, splitSeed: o.seed }));
  const parts = partitionDataset(train, { ...s.partition, seed: o.seed });
  log(`${s.name} seed ${o.seed}: ${s.partition.devices} devices, ${train.y.length} training samples (${s.partition.scheme}${s.partition.alpha ? ` alpha=${s.partition.alpha}` : ''}), backend ${await describeBackend(backend)}`);

  claimOutputFolder(o.out, parts.map((_, d) => teacherKey(s, o.seed, d)));
  const { models: teachers, dirs: teacherDirs } = await phase('teachers', () => prepareTeachers(s, o.seed, train, parts, log, o.workers ?? 0));
  const teacherReport = teachers.map((t, d) => ({ device: d, spec: s.teacherSpecs[d], acc: accuracyOf(t, test), samples: parts[d].indices.length, params: t.countParams() }));
  log(`teachers: ${teacherReport.map((t) => `${(t.acc * 100).toFixed(1)}%`).join(', ')}`);

  const traffic = teachers.map(() => emptyTraffic());
  const workers = o.workers ?? 0;
  const classStats = deviceClassStats(s, teachers, train, parts, log);
  const fleet = workers > 0
    ? await workerFleet(parts.map((p, d) => ({ index: d, modelDir: teacherDirs[d], histogram: p.histogram, blackBox: s.blackBox.includes(d), classStats: classStats?.[d] })), workers)
    : undefined;
  const devicePorts: TeacherPort[] = fleet?.ports ??
    teachers.map((model, d) => new LocalTeacher({ deviceId: `device-${d}`, model, labelHistogram: parts[d].histogram, blackBox: s.blackBox.includes(d), classStats: classStats?.[d] }));
  const ports = devicePorts.map((port, d) => {
    const counted = accountedPort(o.float16 ? float16Port(port) : port, traffic[d], o.float16 ? 2 : 4);
    return s.blackBox.includes(d) ? zerothOrderPort(counted, { ...s.distill.zerothOrder, seed: o.seed }) : counted;
  });

  const student = buildModel(s.studentSpec, { inputShape: train.sampleShape, numClasses: train.numClasses, seed: o.seed });
  const generator = generatorFor(s.distill, train.sampleShape, train.numClasses, o.seed);
  const baselinesFile = join(o.out, 'baselines.json');
  const cached = existsSync(baselinesFile) ? JSON.parse(readFileSync(baselinesFile, 'utf8')) : {};
  // The baselines that train do so on a thread of their own while the distillation runs (background-baselines.ts);
  // those <out>/baselines.json already holds are not trained again.
  const slow = o.skipBaselines ? [] : (Object.keys(BASELINE_KEYS) as TrainedBaseline[]).filter((k) => !(BASELINE_KEYS[k] in cached));
  const background = slow.length ? baselinesInBackground(s, o.seed, slow, log) : undefined;
  let roundsDone = 0;
  let roundsHere = 0;
  const distiller = new Distiller({
    ports,
    student,
    generator,
    config: s.distill,
    seed: o.seed,
    traffic,
    checkpoints: new DirectoryCheckpoints(join(o.out, 'checkpoint'), { generator, student }),
    onStep: (step, steps) => bar.update(`round ${roundsDone + 1}/${s.distill.rounds}`, step / steps, `generator step ${step}/${steps}`),
    onTrained: o.keepStudents ? (r) => saveModel(student, join(o.out, 'students', `round-${r.round}`)) : undefined,
    onRound: (r) => {
      const acc = r.round % s.evaluateEvery === 0 || r.round === r.rounds ? accuracyOf(student, test) : undefined;
      const secs = r.seconds.queries + r.seconds.generator + r.seconds.student;
      roundsDone = r.round;
      roundsHere++;
      log(`round ${r.round}/${r.rounds}: ${acc === undefined ? '' : `student ${(acc * 100).toFixed(2)}%  `}kd ${r.studentLoss.toFixed(3)}${r.teacherHeadsLoss === undefined ? '' : ` heads ${r.teacherHeadsLoss.toFixed(3)}`}  ${s.distill.generatorCe === 'ensemble' ? 'vote ce' : 'device ce'} ${r.deviceLoss.ce.toFixed(3)} bn ${r.deviceLoss.bn.toFixed(2)} adv ${r.deviceLoss.adv.toFixed(3)}  (${secs.toFixed(1)} s: queries ${r.seconds.queries.toFixed(1)}, generator ${r.seconds.generator.toFixed(1)}, student ${r.seconds.student.toFixed(1)})`);
      return acc;
    },
  });
  const state = await phase('distill', () => distiller.run()).finally(() => fleet?.close()).catch(async (e: unknown) => {
    await background?.close();
    throw e;
  });
  bar.done();
  // The last round is always tested (evaluateEvery), on the same published weights: no second test pass.
  const studentAcc = state.history.at(-1)?.studentAccuracy ?? accuracyOf(student, test);
  await saveModel(student, join(o.out, 'student'));
  if (train.sampleShape.length === 3) writeSamples(join(o.out, 'samples.png'), generator, train.numClasses, s.distill.zDim, train.sampleShape, o.seed);

  const histograms = parts.map((p) => p.histogram);
  const keep = (b: Record<string, unknown>) => writeFileAtomic(baselinesFile, JSON.stringify(b));
  const baselines = { ...cached };
  baselines.localMean ??= teacherReport.reduce((a, t) => a + t.acc, 0) / teacherReport.length;
  // Every strategy's vote re-aggregates one pass of the teachers over the test set. Kept with the baselines (the
  // folder's teachers cannot change), so a resumed run does not pass again; passed again only when a strategy was
  // registered since. The run's own ensemble is read from it (an older folder's `ensemble` key is superseded).
  const votes: Record<string, number> | undefined = baselines.ensembleByStrategy;
  if (!votes || AGGREGATION_NAMES.some((name) => !(name in votes))) {
    baselines.ensembleByStrategy = await phase('baselines', () => ensembleAccuracies(teachers, test, AGGREGATION_NAMES, histograms));
  }
  const ensembleByStrategy: Record<string, number> = baselines.ensembleByStrategy;
  delete baselines.ensemble;
  if (!('averagedTeachers' in baselines)) baselines.averagedTeachers = await phase('baselines', () => averagedAccuracy(s, teachers, parts, test, o.seed));
  keep(baselines);
  if (!o.skipBaselines) {
    const here = (kind: TrainedBaseline) => trainBaseline(kind, s, o.seed, { train, test, parts }, log, o.workers ?? 0);
    // What the thread has not started is trained here, now that the distillation's cores are free, while the
    // thread finishes the one it is on; then the thread's results are collected.
    const inThread = new Map(slow.map((k) => [k, background?.claim(k)]));
    try {
      for (const kind of slow.filter((k) => !inThread.get(k))) {
        baselines[BASELINE_KEYS[kind]] = await phase('baselines', () => here(kind));
        keep(baselines);
      }
      for (const kind of slow.filter((k) => inThread.get(k))) {
        baselines[BASELINE_KEYS[kind]] = await phase('baselines', () =>
          inThread.get(kind)!.catch((e: Error) => {
            log(`${kind}: its thread failed (${e.message}); training it here`);
            return here(kind);
          }),
        );
        keep(baselines);
      }
    } finally {
      await background?.close();
    }
  }
  const size = modelSize(student);
  const report: Report = {
    scenario: s.name,
    seed: o.seed,
    teachers: teacherReport,
    ensembleAcc: ensembleByStrategy[s.distill.aggregation],
    ensembleByStrategy,
    studentAcc,
    student: { spec: s.studentSpec, params: size.params, bytes: size.bytes },
    baselines: { localMean: baselines.localMean, fedavgOneShot: baselines.fedavgOneShotShared ?? null, averagedTeachers: baselines.averagedTeachers, fedavgMultiRound: baselines.fedavgMultiRound ?? null, centralized: baselines.centralized ?? null },
    bytes: { perDeviceUp: traffic.map((t) => totalBytes(t.up)), perDeviceDown: traffic.map((t) => totalBytes(t.down)), byKind: traffic },
    queries: traffic.reduce((a, t) => a + t.roundTrips, 0),
    rounds: state.history.map((h) => ({ round: h.round, studentAcc: h.studentAccuracy, seconds: h.seconds.queries + h.seconds.generator + h.seconds.student })),
    wallSeconds: (performance.now() - started) / 1000,
    phases,
    ...(state.round > roundsHere ? { resumedFromRound: state.round - roundsHere } : {}),
  };
  writeFileAtomic(join(o.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  [student, generator, ...teachers].forEach((m) => m.dispose());
  return report;
}
