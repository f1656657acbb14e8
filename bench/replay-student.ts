/**
 * bench:replay — is the student or the synthetic transfer set the limit? Trains students on a finished run's
 * replay buffer alone (no device is asked anything): the run's own student trained on, and fresh students at
 * several temperatures, each evaluated on the real test set as it goes.
 *
 *   npm run bench:replay -- --run out/fmnist-cnn-dir0.5/seed-2 [--scenario <file>] [--steps 3000] [--every 500]
 *                          [--variants continue,continue-cosine,scratch-tau4,...] [--out <file.json>]
 *                          [--jacobian-samples 10000]
 *
 * `--run` is a `distillery distill` output folder (its checkpoint/ and, once finished, report.json); the scenario defaults to
 * simulations/scenarios/<report's scenario>.json. Learning rate, batch size, temperature and seed are the run's
 * own (from its checkpoint). Writes bench/results/replay-student/<scenario>-seed-<n>.json, or --out.
 * Variants that refine the procedural pool (`procedural.refine`) keep the refined images under the simulation
 * cache (.cache/refined-pools/, or $DISTILLERY_CACHE), so later variants and runs on the same teachers reuse them.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { buildModel } from '../shared/models/build.js';
import { parseModelSpec } from '../shared/models/spec.js';
import { accuracyOf } from '../shared/train/fit.js';
import { retemperRows } from '../shared/math/softmax.js';
import { seededRandom, type Random } from '../shared/random.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import type { Scenario } from '../simulations/scenario.js';
import { prepareTeachers } from '../simulations/teachers.js';
import { partitionDataset } from '../shared/data/partition.js';
import { argmaxRows } from '../shared/metrics/index.js';
import { readCheckpointContents } from '../coordinator/engine/checkpoint.js';
import { blendPairs, concatRows, type LabelledRows } from '../coordinator/engine/relabel.js';
import { proceduralBatch, type ProceduralStyle } from '../shared/distill/procedural.js';
import { ReplayBuffer } from '../coordinator/engine/replay.js';
import type { RowDraw } from '../coordinator/engine/procedural-pool.js';
import { setLearningRate, studentLearningRate, studentStep, type StudentLoss } from '../coordinator/engine/steps.js';
import { WeightAverage } from '../coordinator/engine/averaging.js';
import { drawJitter, jitterEachSample, type JitterSettings } from '../coordinator/engine/jitter.js';
import { kdLoss, kdPerSample, logitMatchLoss } from '../shared/distill/losses.js';
import { arg, checkFlags, positiveInt } from './args.js';
import { VARIANTS } from './replay-variants.js';
import { refinedPool, type RefineSettings } from './pool-refine.js';
import { teacherVote, type FleetTeachers } from './fleet-teachers.js';
import { studiedRun } from './run-folder.js';
import { buildJacobianSet, jacobianLoss, meanGradientNorm, type JacobianSet } from './jacobian-set.js';

const ROOT = new URL('..', import.meta.url).pathname;


/** Samples per student step on which the Jacobian-matching variants compare derivatives (two directions each). */
const JACOBIAN_BATCH = 64;

/** The run's teachers from the simulation cache (trained first if missing), which only a simulated run has. */
type Teachers = FleetTeachers;

async function runTeachers(scenario: Scenario, seed: number): Promise<Teachers> {
  const { train } = loadDataset(scenario.dataset, { limit: scenario.limit, splitSeed: seed });
  const parts = partitionDataset(train, { ...scenario.partition, seed });
  const { models } = await prepareTeachers(scenario, seed, train, parts, () => {}, 2);
  return { models, histograms: parts.map((p) => p.histogram), sampleShape: train.sampleShape };
}

/** The buffer's soft labels as the run's teachers vote at `voteTau` (re-expressed at τ). */
async function relabelled(scenario: Scenario, seed: number, x: Float32Array, aggregation: string, tau: number, voteTau: number): Promise<Float32Array> {
  const teachers = await runTeachers(scenario, seed);
  const targets = teacherVote(teachers, x, aggregation, tau, voteTau);
  teachers.models.forEach((m) => m.dispose());
  return targets;
}

/** A pool of `pool` procedural images labelled by the teachers. */
function proceduralPool(teachers: Teachers, pool: number, aggregation: string, tau: number, seed: number, style?: ProceduralStyle, candidates = pool, refine?: RefineSettings): Batch {
  const [height, width] = teachers.sampleShape;
  if (teachers.sampleShape.length !== 3 || teachers.sampleShape[2] !== 1) throw new Error(`procedural images are single-channel images; this data set's samples are [${teachers.sampleShape}]`);
  const raw = proceduralBatch(seededRandom(seed * 131 + 5), candidates, height, width, style);
  const x = refine ? refinedPool(teachers, raw, { aggregation, tau, seed, style, candidates, refine }) : raw;
  const drawn = { x, targets: teacherVote(teachers, x, aggregation, tau), n: candidates };
  if (candidates === pool) return drawn;
  const numClasses = drawn.targets.length / candidates;
  return gatherRows(drawn, selectBalanced(argmaxRows(drawn.targets, numClasses), numClasses, pool));
}

/**
 * `keep` row indices spread as evenly over the top classes in `top` as they allow: each class up to an equal
 * share in draw order, the share raised while classes with fewer rows leave room.
 */
function selectBalanced(top: ArrayLike<number>, numClasses: number, keep: number): number[] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < top.length; i++) byClass[top[i]].push(i);
  const sizes = byClass.map((rows) => rows.length).sort((a, b) => a - b);
  // The largest per-class cap whose total stays within keep.
  let cap = 0;
  for (let left = keep, k = 0; k < numClasses; k++) {
    const even = Math.floor(left / (numClasses - k));
    if (sizes[k] >= even) { cap = even; break; }
    left -= sizes[k];
    cap = sizes[k];
  }
  const chosen = byClass.flatMap((rows) => rows.slice(0, cap));
  const rest = byClass.flatMap((rows) => rows.slice(cap));
  return chosen.concat(rest.slice(0, keep - chosen.length)).sort((a, b) => a - b);
}

/**
 * `drawn` with its first `share` of rows replaced by rows drawn from `pool`: uniformly, or by `drawPool` (the
 * engine's own ReplayBuffer.classBalancedSampler over the pool, as `procedural.balance` draws in a run).
 */
function withProcedural(drawn: Batch, pool: Batch, share: number, rng: Random, drawPool?: RowDraw): Batch {
  const k = Math.round(drawn.n * share);
  const fromPool = drawPool ? drawPool(k, rng) : gatherRows(pool, Array.from({ length: k }, () => rng.int(pool.n)));
  if (k === drawn.n) return fromPool;
  return concatRows(fromPool, gatherRows(drawn, Array.from({ length: drawn.n - k }, (_, i) => k + i)));
}

/** `batch` jittered per sample and labelled afresh by the teachers, combined by `aggregation` at τ. */
function freshlyLabelled(batch: Batch, teachers: Teachers, jitter: JitterSettings, aggregation: string, tau: number, rng: Random): Batch {
  const x = jitterEachSample(batch.x, [batch.n, ...teachers.sampleShape], () => drawJitter(jitter, rng));
  return { x, targets: teacherVote(teachers, x, aggregation, tau), n: batch.n };
}

/**
 * `batch` with every sample blended with a random partner of the batch (λ uniform per sample); the soft labels
 * blended alike, or, given `fresh`, the teachers' vote on the blends.
 */
function mixedUp(batch: Batch, rng: Random, fresh?: { teachers: Teachers; aggregation: string; tau: number }): Batch {
  // Partner and weight drawn in turn per row: the order the committed bench results were measured with.
  const partners: number[] = [];
  const lambdas: number[] = [];
  for (let i = 0; i < batch.n; i++) {
    partners.push(rng.int(batch.n));
    lambdas.push(rng.next());
  }
  const mixed = blendPairs(batch, gatherRows(batch, partners), lambdas);
  return fresh ? { ...mixed, targets: teacherVote(fresh.teachers, mixed.x, fresh.aggregation, fresh.tau) } : mixed;
}

const FLAGS = ['run', 'scenario', 'steps', 'every', 'variants', 'out', 'jacobian-samples'];

type Batch = LabelledRows;

/** The `keep` samples of `drawn` on which the student's KL to the stored soft labels is largest. */
function hardest(student: tf.LayersModel, drawn: Batch, sampleShape: number[], C: number, tau: number, keep: number): Batch {
  const kl = tf.tidy(() => kdPerSample(student.apply(tf.tensor(drawn.x, [drawn.n, ...sampleShape]), { training: false }) as tf.Tensor, tf.tensor2d(drawn.targets, [drawn.n, C]), tau).dataSync());
  const order = Array.from({ length: drawn.n }, (_, i) => i).sort((a, b) => kl[b] - kl[a]).slice(0, Math.min(keep, drawn.n));
  return gatherRows(drawn, order);
}

/** The rows `rows` of `batch` (repeats allowed), in that order. */
function gatherRows(batch: Batch, rows: number[]): Batch {
  const F = batch.x.length / batch.n;
  const C = batch.targets.length / batch.n;
  const x = new Float32Array(rows.length * F);
  const targets = new Float32Array(rows.length * C);
  rows.forEach((j, i) => {
    x.set(batch.x.subarray(j * F, (j + 1) * F), i * F);
    targets.set(batch.targets.subarray(j * C, (j + 1) * C), i * C);
  });
  return { x, targets, n: rows.length };
}

async function main(): Promise<void> {
  checkFlags(FLAGS);
  const { run, scenario, report } = studiedRun<{ scenario: string; studentAcc: number }>();
  const ckpt = readCheckpointContents(join(run, 'checkpoint'));
  if (!ckpt.setup) throw new Error(`${run}/checkpoint predates recorded setups; rerun it to study its replay buffer`);
  const { config, seed } = ckpt.setup;
  const steps = positiveInt('steps', 3000);
  const every = positiveInt('every', 500);
  const names = (arg('variants') ?? Object.keys(VARIANTS).join(',')).split(',');
  for (const n of names) if (!VARIANTS[n]) throw new Error(`unknown variant ${n}; use any of ${Object.keys(VARIANTS).join(', ')}`);

  await initBackend(() => {});
  const { train, test } = loadDataset(scenario.dataset, { limit: scenario.limit, splitSeed: seed });
  const features = train.sampleShape.reduce((a, b) => a * b, 1);
  const numClasses = train.numClasses;
  console.log(`${scenario.name} seed ${seed}: replay buffer of ${ckpt.replay.size} samples after round ${ckpt.round}${report ? `; the run's student ${(report.studentAcc * 100).toFixed(2)}%` : ''}`);

  const out = arg('out') ?? join(ROOT, 'bench', 'results', 'replay-student', `${scenario.name}-seed-${seed}.json`);
  // Variants run earlier on the same checkpoint and step count are kept, so one can be added or rerun alone.
  const earlier = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined;
  const results: Record<string, unknown> = earlier?.round === ckpt.round && earlier?.steps === steps ? earlier.variants : {};
  const votes = new Map<string, Float32Array>();
  let jacobian: JacobianSet | undefined;
  for (const name of names) {
    const v = VARIANTS[name];
    const tau = v.tau ?? config.tau;
    if (v.student && v.init !== 'scratch') throw new Error(`variant ${name}: a changed student can only start from scratch`);
    const scenarioSpec = parseModelSpec(scenario.studentSpec);
    if ((v.student?.conv || v.student?.dense) && scenarioSpec.kind !== 'cnn') throw new Error(`variant ${name}: changes a CNN's widths; the scenario's student is ${scenarioSpec.kind}`);
    const spec = v.student ? { ...scenarioSpec, ...v.student } : scenarioSpec;
    const student = buildModel(spec, { inputShape: train.sampleShape, numClasses, seed: v.init === 'scratch' ? seed + 1000 : seed });
    if (v.init === 'continue') student.setWeights(ckpt.student.map((a) => tf.tensor(a.values, a.shape)));
    const replay = new ReplayBuffer(ckpt.replay.size, features, numClasses);
    // Relabelling runs five teachers over the whole buffer: once per vote (strategy and temperature), shared by its variants.
    const aggregation = v.aggregation ?? config.aggregation;
    const vote = `${aggregation}@${v.voteTau ?? config.tau}`;
    const relabel = v.voteTau !== undefined || v.aggregation !== undefined;
    if (relabel && !votes.has(vote)) votes.set(vote, await relabelled(scenario, seed, ckpt.replay.x, aggregation, config.tau, v.voteTau ?? config.tau));
    if (v.jacobian && !jacobian) {
      // One set for all Jacobian variants: the teachers' gradients at samples drawn from the buffer.
      const count = positiveInt('jacobian-samples', 10000);
      const t = await runTeachers(scenario, seed);
      jacobian = buildJacobianSet(t.models, t.histograms, ckpt.replay.x.subarray(0, ckpt.replay.size * features), count, train.sampleShape, seededRandom(seed * 31 + 7));
      t.models.forEach((m) => m.dispose());
      console.log(`Jacobian set: ${count} buffer samples, mean |∇ margin| ${meanGradientNorm(jacobian).toFixed(3)}`);
    }
    const stored = relabel ? votes.get(vote)! : ckpt.replay.targets;
    replay.restore({ ...ckpt.replay, targets: tau === config.tau ? stored : retemperRows(stored, numClasses, config.tau, tau) });
    const optimizer = tf.train.adam(config.studentLr);
    const draw = replay.classBalancedSampler(v.balance ?? 0);
    // The engine's schedule, as if this were one round of `steps` student steps.
    const schedule = { ...config, studentLrSchedule: v.schedule, rounds: 1, studentSteps: steps };
    const rng = seededRandom(seed * 7919 + 17);
    const average = v.ema ? new WeightAverage(student, v.ema) : undefined;
    const evaluate = () => (average ? average.withAverage(() => accuracyOf(student, test)) : accuracyOf(student, test));
    const curve: { step: number; acc: number }[] = [{ step: 0, acc: await evaluate() }];
    const base: StudentLoss = v.loss === 'logits' ? logitMatchLoss : kdLoss;
    const set = jacobian;
    const match = v.jacobian;
    const loss: StudentLoss = match && set
      ? (z, p, t) => tf.add(base(z, p, t), tf.mul(match.weight, jacobianLoss(student, set, JACOBIAN_BATCH, train.sampleShape, numClasses, match.epsilon, rng))) as tf.Scalar
      : base;
    // The cached teachers, when a variant has them label its batches.
    const labellers = v.freshLabels || v.mixup?.labels === 'fresh' ? await runTeachers(scenario, seed) : undefined;
    const mixLabellers = v.mixup?.labels === 'fresh' ? labellers : undefined;
    let pool: Batch | undefined;
    let drawPool: RowDraw | undefined;
    if (v.procedural) {
      const t = await runTeachers(scenario, seed);
      pool = proceduralPool(t, v.procedural.pool, aggregation, tau, seed, v.procedural.style, v.procedural.candidates, v.procedural.refine);
      t.models.forEach((m) => m.dispose());
      const top = new Array(numClasses).fill(0);
      argmaxRows(pool.targets, numClasses).forEach((c) => top[c]++);
      if (v.procedural.balance) {
        const buffer = new ReplayBuffer(pool.n, features, numClasses);
        buffer.push(pool.x, pool.targets);
        drawPool = buffer.classBalancedSampler(v.procedural.balance);
      }
      console.log(`${name}: ${pool.n} procedural images; the teachers' top class: ${top.map((c) => (c / pool!.n * 100).toFixed(1)).join(' / ')}%`);
    }
    const t0 = performance.now();
    for (let step = 1; step <= steps; step++) {
      setLearningRate(optimizer, studentLearningRate(schedule, 1, step - 1));
      const drawn = draw(config.studentBatchSize * (v.hardPick ?? 1), rng);
      const hard = v.hardPick ? hardest(student, drawn, train.sampleShape, numClasses, tau, config.studentBatchSize) : drawn;
      const picked = pool && v.procedural ? withProcedural(hard, pool, v.procedural.share, rng, drawPool) : hard;
      const viewed = v.freshLabels && labellers ? freshlyLabelled(picked, labellers, v.freshLabels, aggregation, tau, rng) : picked;
      const batch = v.mixup ? mixedUp(viewed, rng, mixLabellers && { teachers: mixLabellers, aggregation, tau }) : viewed;
      const x = tf.tensor(batch.x, [batch.n, ...train.sampleShape]);
      const y = tf.tensor(batch.targets, [batch.n, numClasses]);
      studentStep(student, optimizer, x, y, tau, loss);
      average?.update();
      tf.dispose([x, y]);
      if (step % every === 0 || step === steps) {
        curve.push({ step, acc: await evaluate() });
        console.log(`${name}: step ${step}/${steps}  test accuracy ${(curve.at(-1)!.acc * 100).toFixed(2)}%  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      }
    }
    results[name] = { ...v, tau, curve, final: curve.at(-1)!.acc, seconds: (performance.now() - t0) / 1000 };
    average?.dispose();
    labellers?.models.forEach((m) => m.dispose());
    student.dispose();
    optimizer.dispose();
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileAtomic(out, JSON.stringify({ run, scenario: scenario.name, seed, round: ckpt.round, replaySize: ckpt.replay.size, runStudentAcc: report?.studentAcc ?? null, steps, batchSize: config.studentBatchSize, studentLr: config.studentLr, variants: results }, null, 2) + '\n');
  }
  console.log(`wrote ${out}`);
}

main().catch((e: Error) => {
  console.error(`bench:replay: ${e.message}`);
  process.exit(1);
});
