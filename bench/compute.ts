/**
 * bench:compute — training-step and inference timings per available backend, then full Fashion-MNIST
 * training of the reference CNN and MLP on the default backend.
 *
 *   npm run bench:compute                 # everything (about 30-40 min on a 2-core machine)
 *   npm run bench:compute -- --part timings
 *   npm run bench:compute -- --part fmnist
 *   npm run bench:compute -- --part augment   # what teacher-training augmentations cost per epoch (about 2 min)
 *
 * Results merge into bench/results/compute.json, so the two parts can run separately.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { initBackend, useBackend, type BackendName } from '../shared/compute/backend.js';
import { buildModel } from '../shared/models/build.js';
import { loadFashionMnist } from '../shared/data/fashion-mnist.js';
import { subset } from '../shared/data/dataset.js';
import { fit, accuracyOf } from '../shared/train/fit.js';
import type { TrainingAugmentation } from '../shared/train/augment.js';
import { allRows } from '../shared/train/batches.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { median } from './stats.js';

const RESULTS = new URL('./results/compute.json', import.meta.url).pathname;
export const BENCH_CNN = { kind: 'cnn', conv: [32, 64], dense: [128] } as const;
export const BENCH_MLP = { kind: 'mlp', hidden: [256, 128] } as const;

function timeTrainStep(spec: unknown, steps: number): number {
  const model = buildModel(spec, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([64, 28, 28, 1], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32', 2), 10);
  const step = () => {
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
    loss.dataSync();
    loss.dispose();
  };
  step(); // warm-up: kernel setup, XNNPACK operator creation
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  tf.dispose([x, y]);
  opt.dispose();
  model.dispose();
  return median(times);
}

function timeInference(spec: unknown, runs: number): number {
  const model = buildModel(spec, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const x = tf.randomNormal([1, 28, 28, 1], 0, 1, 'float32', 3);
  const once = () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  for (let i = 0; i < 5; i++) once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    once();
    times.push(performance.now() - t0);
  }
  x.dispose();
  model.dispose();
  return median(times);
}

type Timings = { mlpTrainStepMs: number; cnnTrainStepMs: number; mlpInferMs: number; cnnInferMs: number };

async function timings(): Promise<Record<string, Timings>> {
  const out: Record<string, Timings> = {};
  for (const name of ['tensorflow', 'wasm', 'cpu'] as BackendName[]) {
    if (!(await useBackend(name))) {
      console.log(`backend ${name}: not available, skipped`);
      continue;
    }
    const slow = name === 'cpu';
    console.log(`backend ${name}: timing (cpu conv steps take seconds each)...`);
    out[name] = {
      mlpTrainStepMs: timeTrainStep(BENCH_MLP, slow ? 5 : 20),
      cnnTrainStepMs: timeTrainStep(BENCH_CNN, slow ? 2 : 10),
      mlpInferMs: timeInference(BENCH_MLP, 50),
      cnnInferMs: timeInference(BENCH_CNN, slow ? 10 : 50),
    };
    console.log(`  ${JSON.stringify(out[name])}`);
  }
  return out;
}

async function trainFmnist(spec: unknown, epochs: number, label: string): Promise<{ acc: number; seconds: number }> {
  const train = loadFashionMnist('train');
  const test = loadFashionMnist('test');
  // The last 5,000 training images are the early-stopping slice; the test set is only used once, at the end.
  const fitRows = Int32Array.from({ length: 55000 }, (_, i) => i);
  const valRows = Int32Array.from({ length: 5000 }, (_, i) => 55000 + i);
  const model = buildModel(spec, { inputShape: [28, 28, 1], numClasses: 10, seed: 42 });
  const result = await fit(model, subset(train, fitRows), {
    epochs,
    batchSize: 64,
    learningRate: 1e-3,
    seed: 42,
    patience: 3,
    validation: subset(train, valRows),
    progressEvery: 200,
    onBatch: (b, n, loss) => process.stdout.write(`  ${label} batch ${b}/${n} loss ${loss.toFixed(3)}\r`),
    onEpoch: (e) => console.log(`  ${label} epoch ${e.epoch}: loss ${e.loss.toFixed(4)} val acc ${(e.valAccuracy! * 100).toFixed(2)}% (${e.seconds.toFixed(0)} s)`),
  });
  const acc = accuracyOf(model, test);
  console.log(`${label}: test accuracy ${(acc * 100).toFixed(2)}% after ${result.epochs.length} epochs (best ${result.bestEpoch}), ${result.seconds.toFixed(0)} s`);
  model.dispose();
  return { acc, seconds: result.seconds };
}

/** The fmnist-cnn scenarios' teacher. */
const TEACHER_CNN = { kind: 'cnn', conv: [16, 32], dense: [64], batchNorm: true } as const;
const AUGMENTATIONS: Record<string, TrainingAugmentation | undefined> = {
  plain: undefined,
  noise: { noise: 0.1 },
  adversarial: { adversarial: 0.05 },
};

/**
 * Seconds for one epoch of the teacher on 4,096 Fashion-MNIST images with each augmentation, twice in turn
 * (plain, noise, adversarial, plain, ...) so that drift in the machine's speed hits every variant; the mean
 * of the two is kept. FGSM costs one more forward and backward pass per batch, noise almost nothing.
 */
async function augmentationCost(): Promise<Record<string, number>> {
  const images = subset(loadFashionMnist('train'), allRows(4096));
  const seconds: Record<string, number[]> = {};
  // An uncounted warm-up: the first fit in a process pays for kernel compilation.
  const warmUp = buildModel(TEACHER_CNN, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  await fit(warmUp, subset(images, allRows(512)), { epochs: 1, batchSize: 64, seed: 1, augment: { adversarial: 0.05 } });
  warmUp.dispose();
  for (let repeat = 0; repeat < 2; repeat++) {
    for (const [name, augment] of Object.entries(AUGMENTATIONS)) {
      const model = buildModel(TEACHER_CNN, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
      const r = await fit(model, images, { epochs: 1, batchSize: 64, seed: 1, ...(augment ? { augment } : {}) });
      model.dispose();
      (seconds[name] ??= []).push(r.seconds);
      console.log(`  ${name}: ${r.seconds.toFixed(1)} s for an epoch of 4,096 images`);
    }
  }
  const out = Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, +(v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)]));
  for (const k of Object.keys(out)) console.log(`${k.padEnd(12)} ${out[k].toFixed(1)} s  (${(out[k] / out.plain).toFixed(2)} x plain)`);
  return out;
}

async function main(): Promise<void> {
  const part = process.argv.includes('--part') ? process.argv[process.argv.indexOf('--part') + 1] : 'all';
  if (!['all', 'timings', 'fmnist', 'augment'].includes(part)) throw new Error(`--part must be all, timings, fmnist or augment, got ${part}`);
  const results = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : {};
  if (part === 'augment') {
    await useBackend(await initBackend());
    results.teacherEpochSeconds = { images: 4096, spec: TEACHER_CNN, backend: tf.getBackend(), ...(await augmentationCost()) };
    writeFileAtomic(RESULTS, JSON.stringify(results, null, 2) + '\n');
    console.log(`results written to ${RESULTS}`);
    return;
  }
  if (part !== 'fmnist') {
    results.backends = await timings();
    const { wasm, cpu } = results.backends;
    if (wasm && cpu) {
      console.log('\nbackend   mlpStep  cnnStep  mlpInfer  cnnInfer   (ms)');
      for (const [name, t] of Object.entries(results.backends as Record<string, Timings>)) {
        console.log(`${name.padEnd(9)} ${t.mlpTrainStepMs.toFixed(1).padStart(7)} ${t.cnnTrainStepMs.toFixed(1).padStart(8)} ${t.mlpInferMs.toFixed(2).padStart(9)} ${t.cnnInferMs.toFixed(2).padStart(9)}`);
      }
      const r = (k: keyof Timings) => (wasm[k] / cpu[k]).toFixed(3);
      console.log(`wasm/cpu  ${r('mlpTrainStepMs').padStart(7)} ${r('cnnTrainStepMs').padStart(8)} ${r('mlpInferMs').padStart(9)} ${r('cnnInferMs').padStart(9)}   (ratio)`);
    }
    writeFileAtomic(RESULTS, JSON.stringify(results, null, 2) + '\n');
  }
  if (part !== 'timings') {
    const backend = await initBackend();
    await useBackend(backend);
    const mlp = await trainFmnist(BENCH_MLP, 30, 'mlp');
    const cnn = await trainFmnist({ ...BENCH_CNN, dropout: 0.3 }, 15, 'cnn');
    results.fmnist = { cnnTestAcc: cnn.acc, cnnTrainSeconds: cnn.seconds, mlpTestAcc: mlp.acc, mlpTrainSeconds: mlp.seconds, backend };
    writeFileAtomic(RESULTS, JSON.stringify(results, null, 2) + '\n');
  }
  console.log(`results written to ${RESULTS}`);
}

main().catch((e) => {
  console.error(`bench:compute failed: ${(e as Error).message}`);
  process.exit(1);
});
