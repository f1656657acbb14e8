/**
 * bench:steps — the training steps a fmnist-cnn distillation round is made of, timed on the wasm backend:
 * the student's KD step (conv 16-32 / dense 64, batch 128), a batch-norm teacher's training step and its
 * input gradient for a query (conv 16-32 + BN / dense 64, batch 64), and one generator step (width 32,
 * batch 64, with the recipe's coordinator-side terms), convolutional and drawing 6 shapes (generatorShapes). Used to compare kernel changes across commits:
 *
 *   npm run bench:steps -- --label after                   # this checkout
 *   (in a checkout of an older commit, with this file copied in)
 *   npx tsx bench/steps.ts --label before --out <this repo>/bench/results/steps.json
 *
 * Alternate the two a few times: every run appends its medians under its label, so machine drift hits both.
 * `--threads 2` runs them on two XNNPACK threads (labelled threads-2 unless --label says otherwise).
 *
 *   npm run bench:steps -- --widths 16-32/64,24-48/96,32-64/128
 *
 * times only the student's step (batch 128) for each CNN width, conv filters / dense units, in one process: what a
 * wider student costs a round (writes bench/results/student-widths.json, or --out). `--threads N` runs the
 * wasm backend's XNNPACK on N threads (default 1; docs/compute.md), and a list compares them:
 *
 *   npm run bench:steps -- --widths 16-32/64,32-64/128 --threads 1,2
 *
 * times each count in its own process (a backend's thread count is fixed when it starts), alternating the
 * counts three times so drift hits all of them, and writes the medians to
 * bench/results/student-widths-threads.json (or --out).
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../shared/compute/backend.js';
import { buildModel } from '../shared/models/build.js';
import { buildGenerator } from '../coordinator/engine/generator.js';
import { generatorStep } from '../coordinator/engine/steps.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { median } from './stats.js';

const STUDENT = { kind: 'cnn', conv: [16, 32], dense: [64] } as const;
const TEACHER = { kind: 'cnn', conv: [16, 32], dense: [64], batchNorm: true } as const;
const REPS = 9;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Median milliseconds of `fn` over REPS runs after two warm-ups. */
function timeMs(fn: () => void): number {
  fn();
  fn();
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[REPS >> 1];
}

function batch(n: number, seed: number): { x: tf.Tensor; y: tf.Tensor } {
  return { x: tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', seed), y: tf.oneHot(tf.randomUniform([n], 0, 10, 'int32', seed + 1), 10) };
}

function trainStepMs(spec: unknown, n: number, onModel?: (model: tf.LayersModel) => void): number {
  const model = buildModel(spec, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  onModel?.(model);
  const opt = tf.train.adam(1e-3);
  const { x, y } = batch(n, 10);
  const ms = timeMs(() => {
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
    loss.dataSync();
    loss.dispose();
  });
  tf.dispose([x, y]);
  model.dispose();
  return ms;
}

function inputGradientMs(spec: unknown, n: number): number {
  const model = buildModel(spec, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const { x, y } = batch(n, 20);
  const grad = tf.grad((input: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, model.apply(input, { training: false }) as tf.Tensor));
  const ms = timeMs(() => {
    const g = grad(x);
    g.dataSync();
    g.dispose();
  });
  tf.dispose([x, y]);
  model.dispose();
  return ms;
}

/** One generator step at batch n: the convolutional generator, or with `shapes` the shape generator (generatorShapes). */
function generatorStepMs(n: number, shapes = 0): number {
  const G = buildGenerator({ sampleShape: [28, 28, 1], numClasses: 10, width: 32, shapes });
  const S = buildModel(STUDENT, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const opt = tf.train.adam(0.05, 0.5, 0.999);
  const z = tf.randomNormal([n, 64], 0, 1, 'float32', 30);
  const yOneHot = tf.oneHot(tf.randomUniform([n], 0, 10, 'int32', 31), 10);
  const deviceGradient = tf.randomNormal([n, 28, 28, 1], 0, 1e-3, 'float32', 32);
  const teacherProbs = [0, 1, 2, 3, 4].map((k) => tf.softmax(tf.randomNormal([n, 10], 0, 1, 'float32', 40 + k)));
  const ms = timeMs(() => generatorStep(G, S, opt, { z, yOneHot, deviceGradient, teacherProbs, coordinatorAdv: 0.5, diversity: 5, imagePrior: { tv: 4, l2: 0 } }));
  tf.dispose([z, yOneHot, deviceGradient, ...teacherProbs]);
  G.dispose();
  S.dispose();
  return ms;
}

/** "32-64/128" → a CNN student spec with conv [32, 64] and dense [128]; a clear error names a bad width. */
function parseWidth(text: string): { kind: 'cnn'; conv: number[]; dense: number[] } {
  const m = /^(\d+(?:-\d+)*)\/(\d+(?:-\d+)*)$/.exec(text.trim());
  if (!m) throw new Error(`--widths: "${text}" is not conv filters / dense units, e.g. 32-64/128`);
  const ints = (part: string) => part.split('-').map(Number);
  return { kind: 'cnn', conv: ints(m[1]), dense: ints(m[2]) };
}

/** "1,2" → [1, 2]; a clear error names a bad count. */
function parseThreads(text: string): number[] {
  return text.split(',').map((t) => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`--threads: "${t}" is not a thread count from 1 to 8`);
    return n;
  });
}

const ALTERNATIONS = 3;

/** Each thread count in child processes, alternated; the median of the children's medians per width and count. */
function compareThreads(widths: string, counts: number[]): void {
  const out = arg('out', new URL('./results/student-widths-threads.json', import.meta.url).pathname);
  const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  const scratch = mkdtempSync(join(tmpdir(), 'bench-threads-'));
  const samples = new Map<string, number[]>();
  let rows: { conv: number[]; dense: number[]; params: number }[] = [];
  for (let pass = 1; pass <= ALTERNATIONS; pass++) {
    for (const threads of counts) {
      const file = join(scratch, `${pass}-${threads}.json`);
      console.log(`pass ${pass}/${ALTERNATIONS}, ${threads} thread(s):`);
      execFileSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--widths', widths, '--threads', String(threads), '--out', file], { stdio: 'inherit' });
      const result = JSON.parse(readFileSync(file, 'utf8')) as { rows: { conv: number[]; dense: number[]; params: number; studentStepBatch128: number }[] };
      rows = result.rows;
      for (const r of result.rows) {
        const key = `${r.conv.join('-')}/${r.dense.join('-')}@${threads}`;
        samples.set(key, [...(samples.get(key) ?? []), r.studentStepBatch128]);
      }
    }
  }
  const table = rows.map((r) => {
    const ms = Object.fromEntries(counts.map((t) => [t, median(samples.get(`${r.conv.join('-')}/${r.dense.join('-')}@${t}`)!)]));
    return { conv: r.conv, dense: r.dense, params: r.params, msByThreads: ms, ratioToOneThread: Object.fromEntries(counts.map((t) => [t, +(ms[t] / ms[counts[0]]).toFixed(3)])) };
  });
  console.log(`student step at batch 128, median over ${ALTERNATIONS} alternating processes (ms):`);
  for (const r of table) console.log(`  conv ${r.conv.join('-')} / dense ${r.dense.join('-')}: ${counts.map((t) => `${t} thread(s) ${r.msByThreads[t]}`).join(', ')}`);
  writeFileAtomic(out, JSON.stringify({ commit, measured: new Date().toISOString(), reps: REPS, alternations: ALTERNATIONS, threads: counts, rows: table }, null, 2) + '\n');
  console.log(`results written to ${out}`);
}

async function studentWidths(list: string, threads: number): Promise<void> {
  const specs = list.split(',').map(parseWidth);
  const out = arg('out', new URL('./results/student-widths.json', import.meta.url).pathname);
  if (!(await useBackend('wasm', { threads }))) throw new Error('the wasm backend could not start');
  const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  console.log(`bench:steps student widths at ${commit}, ${threads} thread(s): median of ${REPS} steps at batch 128 (ms)`);
  const rows = specs.map((spec) => {
    let params = 0;
    const ms = trainStepMs(spec, 128, (model) => (params = model.countParams()));
    console.log(`  conv ${spec.conv.join('-')} / dense ${spec.dense.join('-')}: ${params} parameters, ${ms.toFixed(1)} ms`);
    return { conv: spec.conv, dense: spec.dense, params, studentStepBatch128: +ms.toFixed(1) };
  });
  writeFileAtomic(out, JSON.stringify({ commit, measured: new Date().toISOString(), reps: REPS, threads, rows }, null, 2) + '\n');
  console.log(`results written to ${out}`);
}

async function main(): Promise<void> {
  const widths = arg('widths', '');
  const threads = parseThreads(arg('threads', '1'));
  if (widths && threads.length > 1) return compareThreads(widths, threads);
  if (widths) return studentWidths(widths, threads[0]);
  if (threads.length > 1) throw new Error('--threads takes one count here; a list compares counts with --widths');
  const label = arg('label', threads[0] === 1 ? 'current' : `threads-${threads[0]}`);
  const out = arg('out', new URL('./results/steps.json', import.meta.url).pathname);
  if (!(await useBackend('wasm', { threads: threads[0] }))) throw new Error('the wasm backend could not start');
  const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  console.log(`bench:steps '${label}' at ${commit}, ${threads[0]} thread(s): median of ${REPS} runs each (ms)`);
  const sample = {
    studentStepBatch128: trainStepMs(STUDENT, 128),
    teacherBnStepBatch64: trainStepMs(TEACHER, 64),
    teacherInputGradientBatch64: inputGradientMs(TEACHER, 64),
    generatorStepBatch64: generatorStepMs(64),
    shapeGeneratorStepBatch64: generatorStepMs(64, 6),
  };
  for (const [k, v] of Object.entries(sample)) console.log(`  ${k.padEnd(30)} ${v.toFixed(1)}`);
  const results = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { runs: [] };
  results.runs.push({ label, commit, measured: new Date().toISOString(), ...sample });
  const labels = [...new Set(results.runs.map((r: { label: string }) => r.label))] as string[];
  results.medians = Object.fromEntries(labels.map((l) => {
    const runs = results.runs.filter((r: { label: string }) => r.label === l);
    const keys = Object.keys(sample) as (keyof typeof sample)[];
    // Runs recorded before a step was added lack it: each median is over the runs that timed that step.
    const median = (k: keyof typeof sample) => {
      const values = runs.map((r: Partial<typeof sample>) => r[k]).filter((v: unknown): v is number => typeof v === 'number').sort((a: number, b: number) => a - b);
      return values.length ? [[k, +values[values.length >> 1].toFixed(1)]] : [];
    };
    return [l, Object.fromEntries([['runs', runs.length], ...keys.flatMap(median)])];
  }));
  writeFileAtomic(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`results written to ${out}`);
}

main().catch((e) => {
  console.error(`bench:steps failed: ${(e as Error).message}`);
  process.exit(1);
});
