/**
 * bench:agent — the edge agent's targets from issue 6, measured in one run:
 *  1. int8 student on Fashion-MNIST: trains the student CNN, quantizes it with 1,000 calibration samples,
 *     and reports file size, accuracy drop on the 10k test set, and batch-1 latency against TF.js wasm;
 *  2. lifelong learning on a class-incremental Fashion-MNIST stream (5 tasks of 2 classes): LwF + reservoir
 *     replay against naive fine-tuning, same model init and code path;
 *  3. the agent daemon's peak RSS (bench/agent-memory.ts): `distillery agent start` with the CNN teacher.
 *
 *   npm run bench:agent                 # about 10 minutes on a 2-core machine
 *   npm run bench:agent -- --quick      # a smoke run with less training (numbers not representative)
 *   npm run bench:agent -- --ablation   # what LwF, replay and the asymmetric loss each add (digits, ~1 min)
 *
 * Writes bench/results/agent.json.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../shared/compute/backend.js';
import { buildModel } from '../shared/models/build.js';
import { saveModel, WEIGHTS_BIN } from '../shared/models/store.js';
import { loadFashionMnist } from '../shared/data/fashion-mnist.js';
import { loadDataset } from '../shared/data/registry.js';
import { subset, type Dataset } from '../shared/data/dataset.js';
import { fit, accuracyOf } from '../shared/train/fit.js';
import { accuracy, argmaxRows } from '../shared/metrics/index.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { agentMemoryPart } from './agent-memory.js';
import { Int8Model, quantizeModel, saveQuantized, loadQuantized } from '../shared/quantize/index.js';
import { LifelongLearner, classIncrementalGroups, naiveOptions, runStream, splitByClasses, type LifelongOptions, type StreamResult } from '../edge-agent/lifelong/index.js';
import { median } from './stats.js';

const RESULTS = new URL('./results/agent.json', import.meta.url).pathname;
/** The student of the engine issue: two 3x3 conv blocks and a 64-unit dense layer, 106k parameters. */
export const STUDENT = { kind: 'cnn', conv: [16, 32], dense: [64] } as const;
const QUICK = process.argv.includes('--quick');
const CONFIG = {
  studentEpochs: QUICK ? 1 : 4,
  studentTrain: QUICK ? 10_000 : 55_000,
  calibration: 1000,
  latencyRuns: QUICK ? 300 : 2000,
  taskSamples: QUICK ? 1000 : 4000,
  lifelong: { memorySize: 1000, epochs: QUICK ? 1 : 2, batchSize: 8, learningRate: 1e-3, seed: 7 } satisfies LifelongOptions,
};

const log = (line: string) => console.log(`[${(performance.now() / 1000).toFixed(0).padStart(4)}s] ${line}`);
const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const rssMB = () => Math.round(process.memoryUsage().rss / 2 ** 20);

/** Samples [from, to) of a dataset as views, not copies: the float training set alone is 188 MB. */
function slice(d: Dataset, from: number, to: number): Dataset {
  const f = d.x.length / d.y.length;
  return { ...d, x: d.x.subarray(from * f, to * f), y: d.y.subarray(from, to) };
}

/**
 * Peak RSS of a fresh process that only serves the int8 model (imports inference.ts, never TF.js): what a
 * device running the int8 student needs, unlike this benchmark process, which holds the float training set.
 * Linux carries ru_maxrss across execve (getrusage(2)), so a child of this large process would report our
 * peak; VmHWM in /proc/self/status belongs to the child's own address space.
 */
function int8ServingRssMB(file: string): number {
  const entry = new URL('../shared/quantize/inference.ts', import.meta.url).href;
  const code = `const { Int8Model, loadQuantized } = await import(${JSON.stringify(entry)});
    const model = new Int8Model(loadQuantized(${JSON.stringify(file)}));
    const x = new Float32Array(784).fill(0.5);
    for (let i = 0; i < 2000; i++) model.predict(x);
    const { existsSync, readFileSync } = await import('node:fs');
    const hwm = existsSync('/proc/self/status') && /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    console.log(hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024);`;
  const cwd = new URL('..', import.meta.url).pathname;
  return Number(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd, encoding: 'utf8' }).trim());
}

async function trainStudent(train: Dataset): Promise<tf.LayersModel> {
  const model = buildModel(STUDENT, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const validation = slice(train, 55_000, 60_000);
  log(`training the float student on ${CONFIG.studentTrain} samples, ${CONFIG.studentEpochs} epochs (validation: 5,000)`);
  await fit(model, slice(train, 0, CONFIG.studentTrain), {
    epochs: CONFIG.studentEpochs, batchSize: 64, learningRate: 1e-3, seed: 1, validation, patience: 2,
    onEpoch: (e) => log(`  epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, validation accuracy ${(e.valAccuracy! * 100).toFixed(2)}% (${e.seconds.toFixed(0)} s)`),
  });
  return model;
}

/**
 * Batch-1 latency, float array in and float logits out for both: TF.js builds a tensor, runs the layers
 * model and reads back; the int8 model quantizes, runs its kernels and dequantizes. Blocks of runs
 * alternate so both see the same machine load; medians resist GC pauses and other processes.
 */
function latency(model: tf.LayersModel, int8: Int8Model, test: Dataset): { floatMs: number; int8Ms: number } {
  const samples = Array.from({ length: 64 }, (_, i) => test.x.slice(i * 784, (i + 1) * 784));
  const runFloat = (x: Float32Array) => tf.tidy(() => (model.predict(tf.tensor4d(x, [1, 28, 28, 1])) as tf.Tensor).dataSync());
  const runInt8 = (x: Float32Array) => int8.predict(x);
  for (let i = 0; i < 300; i++) {
    runFloat(samples[i % 64]);
    runInt8(samples[i % 64]);
  }
  const times = { float: [] as number[], int8: [] as number[] };
  for (let i = 0; i < CONFIG.latencyRuns; i += 50) {
    for (const [name, run] of [['float', runFloat], ['int8', runInt8]] as const) {
      for (let j = 0; j < 50; j++) {
        const t0 = performance.now();
        run(samples[(i + j) % 64]);
        times[name].push(performance.now() - t0);
      }
    }
  }
  return { floatMs: median(times.float), int8Ms: median(times.int8) };
}

async function int8Part(train: Dataset, test: Dataset) {
  const model = await trainStudent(train);
  const dir = mkdtempSync(join(tmpdir(), 'bench-agent-'));
  try {
    await saveModel(model, dir);
    const floatBytes = statSync(join(dir, WEIGHTS_BIN)).size;
    log(`quantizing with ${CONFIG.calibration} calibration samples`);
    const calibration = slice(train, 0, CONFIG.calibration);
    const file = join(dir, 'student.dq8');
    const int8Bytes = saveQuantized(quantizeModel(model, calibration.x), file);
    const int8 = new Int8Model(loadQuantized(file));
    const floatAcc = accuracyOf(model, test);
    const int8Acc = accuracy(argmaxRows(int8.predict(test.x), 10), test.y);
    log(`float accuracy ${(floatAcc * 100).toFixed(2)}%, int8 accuracy ${(int8Acc * 100).toFixed(2)}% on ${test.y.length} test samples`);
    log(`timing batch-1 inference (${CONFIG.latencyRuns} runs each, interleaved)`);
    const { floatMs, int8Ms } = latency(model, int8, test);
    log(`  TF.js wasm float ${(floatMs * 1000).toFixed(0)} us, int8 ${(int8Ms * 1000).toFixed(0)} us`);
    const servingRssMB = int8ServingRssMB(file);
    log(`a process serving only the int8 model peaks at ${servingRssMB.toFixed(0)} MB RSS`);
    model.dispose();
    return {
      sizeRatio: int8Bytes / floatBytes, accDropPoints: (floatAcc - int8Acc) * 100, latencyRatio: int8Ms / floatMs,
      detail: { floatBytes, int8Bytes, floatAcc, int8Acc, floatMs, int8Ms, int8WasmMemoryBytes: int8.memoryBytes, int8ServingPeakRssMB: servingRssMB },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function lifelongPart(train: Dataset, test: Dataset) {
  const groups = classIncrementalGroups(10, 2);
  // The first taskSamples samples of each task's classes, in the training set's order.
  const trainTasks = groups.map((classes, t) => {
    const picked: number[] = [];
    for (let i = 0; i < train.y.length && picked.length < CONFIG.taskSamples; i++) if (classes.includes(train.y[i])) picked.push(i);
    return subset(train, picked, `fashion-mnist/train/task${t}`);
  });
  const testTasks = splitByClasses(test, groups);
  const run = async (name: string, options: LifelongOptions): Promise<StreamResult> => {
    log(`lifelong ${name}: 5 tasks x ${CONFIG.taskSamples} samples, ${options.epochs} epochs, memory ${options.memorySize}`);
    const model = buildModel(STUDENT, { inputShape: [28, 28, 1], numClasses: 10, seed: 3 });
    const result = await runStream(new LifelongLearner(model, train, options), trainTasks, testTasks, (k, report, accs) =>
      log(`  task ${k + 1} (classes ${report.newClasses.join(',')}): ${report.seconds.toFixed(0)} s, accuracy per task ${accs.map((a) => (a * 100).toFixed(1)).join(' / ')}`),
    );
    model.dispose();
    return result;
  };
  const ours = await run('LwF + replay', CONFIG.lifelong);
  const naive = await run('naive fine-tuning', naiveOptions(CONFIG.lifelong));
  return { ours, naive };
}

/** --ablation: each part of the lifelong learner switched on in turn, on digits, mean of 4 seeds. */
async function ablation(): Promise<void> {
  const { train, test } = loadDataset('digits');
  const groups = classIncrementalGroups(10, 2);
  const [trainTasks, testTasks] = [splitByClasses(train, groups), splitByClasses(test, groups)];
  const base: LifelongOptions = { memorySize: 100, epochs: 5, batchSize: 16, learningRate: 2e-3, seed: 1 };
  const variants: [string, Partial<LifelongOptions>][] = [
    ['naive fine-tuning', naiveOptions(base)],
    ['LwF alone (plain softmax)', { memorySize: 0, asymmetric: false }],
    ['asymmetric CE', { memorySize: 0, lwfWeight: 0 }],
    ['LwF + asymmetric CE', { memorySize: 0 }],
    ['replay + asymmetric CE', { lwfWeight: 0 }],
    ['LwF + replay + asymmetric CE (default)', {}],
  ];
  console.log(`digits, 5 tasks of 2 classes, MLP [64], ${JSON.stringify(base)}, seeds 1-4\n`);
  console.log(`${'variant'.padEnd(40)} avgAcc  forgetting`);
  for (const [name, change] of variants) {
    let acc = 0;
    let forget = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const model = buildModel({ kind: 'mlp', hidden: [64] }, { inputShape: [8, 8, 1], numClasses: 10, seed: seed + 10 });
      const r = await runStream(new LifelongLearner(model, train, { ...base, ...change, seed }), trainTasks, testTasks);
      acc += r.avgAcc / 4;
      forget += r.forgetting / 4;
      model.dispose();
    }
    console.log(`${name.padEnd(40)} ${acc.toFixed(3)}   ${forget.toFixed(3)}`);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  await initBackend((l) => log(l));
  if (process.argv.includes('--ablation')) return ablation();
  if (process.argv.includes('--memory')) {
    // Only the daemon's memory, merged into the last full run's results.
    const memory = await agentMemoryPart(log, QUICK);
    const previous = JSON.parse(readFileSync(RESULTS, 'utf8'));
    writeFileAtomic(RESULTS, JSON.stringify({ ...previous, peakRssMB: memory.peakRssMB, detail: { ...previous.detail, agentMemory: memory } }, null, 2) + '\n');
    console.log(`agent daemon peak RSS ${memory.peakRssMB.toFixed(0)} MB (start-up ${memory.startupPeakRssMB.toFixed(0)}, serving and learning ${memory.servingAndLearningPeakRssMB.toFixed(0)}; teacher-training child ${memory.trainingPeakRssMB} MB); wrote ${RESULTS}`);
    return;
  }
  const rssBaselineMB = rssMB();
  log(`loading Fashion-MNIST${QUICK ? ' (quick run: less training, numbers not representative)' : ''}`);
  const train = loadFashionMnist('train');
  const test = loadFashionMnist('test');
  const rssWithDataMB = rssMB();
  log(`RSS ${rssBaselineMB} MB after starting TF.js, ${rssWithDataMB} MB with the data sets loaded`);
  const int8 = await int8Part(train, test);
  const { ours, naive } = await lifelongPart(train, test);
  const benchRssMB = process.resourceUsage().maxRSS / 1024;
  log('measuring the agent daemon (distillery agent start) with the Fashion-MNIST CNN teacher');
  const memory = await agentMemoryPart(log, QUICK);
  const peakRssMB = memory.peakRssMB;
  const results = {
    int8: { sizeRatio: int8.sizeRatio, accDropPoints: int8.accDropPoints, latencyRatio: int8.latencyRatio },
    lifelong: { avgAcc: ours.avgAcc, forgetting: ours.forgetting, naiveAvgAcc: naive.avgAcc, naiveForgetting: naive.forgetting },
    peakRssMB,
    detail: {
      ...int8.detail, backend: tf.getBackend(), quick: QUICK, config: CONFIG, seconds: (performance.now() - started) / 1000,
      agentMemory: memory,
      // This benchmark process (float data sets and training in one process): before any data, with the
      // float data sets (60k + 10k) loaded, and its peak.
      rssBaselineMB, rssWithDataMB, benchRssMB,
      accuracyMatrix: { ours: ours.accuracy, naive: naive.accuracy }, date: new Date().toISOString(),
    },
  };
  writeFileAtomic(RESULTS, JSON.stringify(results, null, 2) + '\n');
  const f = (v: number, d = 3) => v.toFixed(d);
  const table: [string, string, string][] = [
    ['int8 size ratio (file / float weights.bin)', f(int8.sizeRatio), '<= 0.26'],
    ['int8 accuracy drop (points)', f(int8.accDropPoints, 2), '<= 0.5'],
    ['int8 batch-1 latency ratio (vs TF.js wasm)', f(int8.latencyRatio), '<= 0.5 (aim)'],
    ['lifelong average accuracy', f(ours.avgAcc), `naive ${f(naive.avgAcc)}`],
    ['lifelong forgetting', f(ours.forgetting), `<= ${f(naive.forgetting / 2)} (half of naive ${f(naive.forgetting)})`],
    ['peak RSS (MB, agent daemon)', f(peakRssMB, 0), '<= 200'],
    ['peak RSS (MB, its one-off teacher-training child)', f(memory.trainingPeakRssMB, 0), ''],
    ['peak RSS (MB, agent daemon serving and learning)', f(memory.servingAndLearningPeakRssMB, 0), '<= 200'],
    ['peak RSS (MB, a process serving the int8 model)', f(int8.detail.int8ServingPeakRssMB, 0), '<= 200 (agent)'],
  ];
  console.log('\n' + table.map(([a, b, c]) => `${a.padEnd(50)} ${b.padStart(8)}   ${c}`).join('\n'));
  console.log(`\nwrote ${RESULTS} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
