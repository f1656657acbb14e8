/**
 * The data-free distillation loop (DENSE/DFAD-style, split across the TeacherPort):
 *
 *   each round:
 *     generatorSteps × { x = G(z, y); ask every device for ∂L_d/∂x and its logits at x;
 *                        aggregate the logits into soft labels → replay buffer; update G }
 *     relabel.batches × { ask every device for logits on mixtures of replayed samples → replay buffer }
 *     (first round, with procedural.pool) { ask every device for logits on procedural images → procedural pool }
 *     studentSteps   × { KD step of the student on a replayed batch (share of it from the procedural pool) } (student-steps.ts)
 *     checkpoint
 *
 * Every query's logits become training data, so no device is ever asked twice about the same batch. With a
 * quorum (the coordinator service's rounds), a step aggregates the devices that answered by the deadline.
 * Rounds are seeded from (seed, round), so a run resumed from a checkpoint continues exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom, type Random } from '../../shared/random.js';
import { softmaxRows } from '../../shared/math/softmax.js';
import { aggregateTargets } from '../../shared/distill/aggregation/index.js';
import type { GradientReply, TeacherInfo, TeacherPort, TensorData } from '../../shared/distill/port.js';
import type { DistillConfig } from './config.js';
import { ReplayBuffer } from './replay.js';
import { penultimateFeatures } from '../../shared/models/build.js';
import { generatorStep, type HistoryRepulsionInputs } from './steps.js';
import { trainStudentRound } from './student-steps.js';
import { TeacherHeads } from './teacher-heads.js';
import type { CheckpointStore } from './checkpoint.js';
import { collectReplies, type Collected, type QuorumOptions } from './quorum.js';
import { applyJitter, drawJitter, jitterEnabled } from './jitter.js';
import { applyCutout, drawCutoutMask } from './cutout.js';
import { applyZoom, drawZoomScales } from './zoom.js';
import { mixTargets, softTargetWeights } from './label-mix.js';
import { addTraffic, copyTraffic, type Traffic } from './accounting.js';
import { relabelInputs, towardDisagreement } from './relabel.js';
import { proceduralImages } from '../../shared/distill/procedural.js';
import { proceduralPoolQueries } from './procedural-pool.js';
import { WeightAverage } from './averaging.js';
import { reinitializeGenerator } from './generator.js';
import { ceSampleWeights, ensembleCeWeights } from './ce-weights.js';
import { balancedLabels, labelsByShares, scarcityShares } from './label-requests.js';

/** One device's part in a round: queries answered in time, failed, and left behind at the deadline. */
export interface Participation {
  deviceId: string;
  answered: number;
  failed: number;
  late: number;
}

export interface RoundReport {
  round: number;
  rounds: number;
  generatorLoss: number;
  studentLoss: number;
  /** With teacherHeads: the heads' mean loss over the round's student steps (unweighted). */
  teacherHeadsLoss?: number;
  /** Means over the round's queries and devices; with generatorCe 'ensemble', `ce` is the vote's CE on the requested labels. */
  deviceLoss: { ce: number; bn: number; adv: number };
  seconds: { queries: number; generator: number; student: number };
  /** Per device (in port order): queries answered in time, failed, and left behind at the deadline. */
  participation?: Participation[];
  /** Filled in by the caller's evaluate hook, if any. */
  studentAccuracy?: number;
}

export interface DistillerOptions {
  ports: TeacherPort[];
  student: tf.LayersModel;
  generator: tf.LayersModel;
  config: DistillConfig;
  seed: number;
  checkpoints?: CheckpointStore;
  /**
   * Called after each round, before its checkpoint, with the published student's weights in `student` (its
   * weight average when `studentEma` is on); may return the student's accuracy for the history.
   */
  onRound?: (r: RoundReport) => Promise<number | undefined> | number | undefined;
  /**
   * Called after each round, before onRound, with the student's own (training) weights in `student`, whether or
   * not a weight average is published (to keep every round's student for study).
   */
  onTrained?: (r: RoundReport) => Promise<void> | void;
  /** Called after each generator step with (step, steps) for progress bars. */
  onStep?: (step: number, steps: number) => void;
  /**
   * Go on with the replies that arrived: after `deadlineMs`, as soon as `min` devices answered (default:
   * every device, no deadline). Missing devices simply do not vote on that batch; the step fails with a
   * QuorumError only if fewer than `min` can still answer.
   */
  quorum?: QuorumOptions;
  /** Checked between rounds: once aborted, run() returns after the round in progress is checkpointed. */
  signal?: AbortSignal;
  /**
   * The per-port counters the ports count into (accountedPort), in port order. They are checkpointed with
   * each round and added back on resume, so a resumed run reports every byte that crossed the ports.
   */
  traffic?: Traffic[];
}

export interface DistillState {
  round: number;
  history: RoundReport[];
  /** Cumulative traffic per port up to this round (when the Distiller was given counters). */
  traffic?: Traffic[];
}

/** Noise inputs with the generator's output shape: uniform [0, 1] for images, N(0, 1) for tabular rows. */
function noiseLike(G: tf.LayersModel, n: number, rng: Random): tf.Tensor {
  const shape = G.outputs[0].shape.slice(1) as number[];
  const size = n * shape.reduce((a, b) => a * b, 1);
  const image = shape.length === 3;
  return tf.tensor(Float32Array.from({ length: size }, () => (image ? rng.next() : rng.normal())), [n, ...shape]);
}

export class Distiller {
  readonly replay: ReplayBuffer;
  /** Procedural images and their soft labels (DistillConfig.procedural), when on; filled once, in round 1. */
  readonly procedural?: ReplayBuffer;
  /** Replaced by a fresh one at each generator restart (see DistillConfig.generatorRestart). */
  generatorOptimizer: tf.Optimizer;
  readonly studentOptimizer: tf.Optimizer;
  /** The student's weight average, when `studentEma` is on (checkpointed beside the student). */
  readonly studentAverage?: WeightAverage;
  /** The per-teacher heads, when `teacherHeads` is on (coordinator-side, checkpointed, never published). */
  readonly teacherHeads?: TeacherHeads;
  /** The student up to its last layer's input (its penultimate features), sharing the student's weights. */
  private readonly studentFeatures: tf.LayersModel;
  private infos: TeacherInfo[] = [];
  private state: DistillState = { round: 0, history: [] };

  constructor(private readonly o: DistillerOptions) {
    const features = o.student.inputs[0].shape.slice(1).reduce((a, b) => (a as number) * (b as number), 1) as number;
    const C = o.student.outputs[0].shape[1] as number;
    this.studentFeatures = penultimateFeatures(o.student);
    // With teacher heads every stored sample keeps each device's own answer beside the vote.
    const side = o.config.teacherHeads > 0 ? o.ports.length * C : 0;
    if (side) this.teacherHeads = new TeacherHeads(this.studentFeatures.outputs[0].shape[1] as number, o.ports.length, C, o.seed * 7_919 + 13);
    this.replay = new ReplayBuffer(o.config.replayCapacity, features, C, side);
    if (o.config.procedural.pool > 0) this.procedural = new ReplayBuffer(o.config.procedural.pool, features, C, side);
    this.generatorOptimizer = tf.train.adam(o.config.generatorLr, 0.5, 0.999);
    this.studentOptimizer = tf.train.adam(o.config.studentLr);
    if (o.config.studentEma > 0) this.studentAverage = new WeightAverage(o.student, o.config.studentEma);
  }

  /**
   * Runs `fn` while the student model holds the weights a run publishes: the weight average when `studentEma`
   * is on (the training weights are put back afterwards), otherwise the student's own.
   */
  withPublishedStudent<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.studentAverage ? this.studentAverage.withAverage(fn) : Promise.resolve().then(fn);
  }

  get history(): RoundReport[] {
    return this.state.history;
  }

  /** What determines the run besides the models: checkpoints record it so a resume cannot mix two setups. */
  get setup(): { config: DistillConfig; seed: number } {
    return { config: this.o.config, seed: this.o.seed };
  }

  /** Enrolment: each device's label histogram and capabilities (one small message each). */
  async enroll(): Promise<TeacherInfo[]> {
    this.infos = await Promise.all(this.o.ports.map((p) => p.info()));
    const C = this.o.student.outputs[0].shape[1];
    for (const [i, info] of this.infos.entries()) {
      if (info.numClasses !== C) throw new Error(`device ${this.o.ports[i].deviceId} has ${info.numClasses} classes, the student ${C}`);
    }
    this.teacherHeads?.setHeld(this.infos.map((info) => info.labelHistogram));
    return this.infos;
  }

  async run(): Promise<DistillState> {
    const shape = this.o.student.inputs[0].shape.slice(1) as number[];
    // A square as large as the image would blank every query: no teacher could say anything about it.
    if (this.o.config.cutout > 0 && shape.length === 3 && this.o.config.cutout >= Math.min(shape[0], shape[1])) {
      throw new Error(`distill.cutout: ${this.o.config.cutout} pixels would cover the whole ${shape[0]} × ${shape[1]} image; use a side below ${Math.min(shape[0], shape[1])}`);
    }
    if (this.procedural && (shape.length !== 3 || shape[2] !== 1)) {
      throw new Error(`distill.procedural: procedural images are single-channel images, and this student takes samples of shape [${shape.join(', ')}]; set procedural.pool to 0`);
    }
    if (!this.infos.length) await this.enroll();
    const restored = await this.o.checkpoints?.load(this);
    if (restored) {
      this.state = restored;
      const counters = this.o.traffic;
      const saved = restored.traffic;
      if (counters && saved) {
        // Another fleet size means another experiment; silently dropping the saved counts would under-report.
        if (saved.length !== counters.length) throw new Error(`the checkpoint counted traffic for ${saved.length} devices, this run has ${counters.length}; use another output folder`);
        counters.forEach((t, i) => addTraffic(t, saved[i]));
      }
    }
    for (let round = this.state.round + 1; round <= this.o.config.rounds; round++) {
      if (this.o.signal?.aborted) break;
      const report = await this.runRound(round);
      await this.o.onTrained?.(report);
      const acc = await this.withPublishedStudent(() => this.o.onRound?.(report));
      if (acc !== undefined) report.studentAccuracy = acc;
      this.state = { round, history: [...this.state.history, report], ...(this.o.traffic ? { traffic: this.o.traffic.map(copyTraffic) } : {}) };
      await this.o.checkpoints?.save(this, this.state);
    }
    // What the caller exports from here on; the training weights live on in the checkpoint.
    this.studentAverage?.install();
    return this.state;
  }

  /**
   * A new generator path: fresh weights (seeded from seed and round, so a resumed run restarts identically)
   * and a fresh optimizer, as at the start of a run. Happens at the start of the round, before the round's
   * checkpoint, so a resume after it restores the restarted generator.
   */
  private restartGenerator(round: number): void {
    reinitializeGenerator(this.o.generator, (this.o.seed * 1_000_003 + round * 7_919) >>> 0);
    this.generatorOptimizer.dispose();
    this.generatorOptimizer = tf.train.adam(this.o.config.generatorLr, 0.5, 0.999);
  }

  /**
   * Counts who answered, failed or was late, and stores the batch in the replay buffer with the answers'
   * aggregated soft labels. Only devices that answered vote, each with its own histogram, in port order.
   * Returns the logits that voted.
   */
  private store(inputs: Float32Array, collected: Collected<{ logits: TensorData }>, participation: Participation[], into: ReplayBuffer = this.replay): Float32Array[] {
    const c = this.o.config;
    collected.replies.forEach(({ index }) => participation[index].answered++);
    collected.failed.forEach(({ index }) => participation[index].failed++);
    collected.late.forEach((index) => participation[index].late++);
    const logits = collected.replies.map((r) => r.value.logits.values);
    const histograms = collected.replies.map((r) => this.infos[r.index].labelHistogram);
    const C = this.infos[0].numClasses;
    const side = this.teacherHeads?.targets(collected.replies.map((r) => ({ device: r.index, logits: r.value.logits.values })), c.tau);
    into.push(inputs, aggregateTargets(c.aggregation, { logits, numClasses: C, tau: c.tau, histograms, trim: c.trim }, c.voteTau), side);
    return logits;
  }

  /**
   * generatorCe 'ensemble': asks every device for its logits at x, then returns each answering device's CE
   * weights for its part of the ensemble's CE gradient (undefined for the others, which are then not asked),
   * and the vote's CE on the requested labels.
   */
  private async ensembleClassWeights(inputs: TensorData, targets: Int32Array, quorum: QuorumOptions): Promise<{ perDevice: (TensorData | undefined)[]; ce: number }> {
    const C = this.infos[0].numClasses;
    const first = await collectReplies(this.o.ports.map((p) => p.logits({ inputs })), quorum);
    const answered = first.replies.map((r) => r.index);
    const { weights, ce } = ensembleCeWeights(answered.map((d) => this.infos[d].labelHistogram), first.replies.map((r) => r.value.logits.values), targets, C);
    const perDevice: (TensorData | undefined)[] = this.o.ports.map(() => undefined);
    answered.forEach((d, k) => (perDevice[d] = { shape: [targets.length, C], values: weights[k] }));
    return { perDevice, ce };
  }

  /**
   * Has every device draw and label the procedural pool from seeds in its logits queries (proceduralPoolQueries),
   * and stores the answers with the same images drawn here. Returns the milliseconds spent.
   */
  private async labelProceduralPool(pool: ReplayBuffer, sampleShape: number[], quorum: QuorumOptions, participation: Participation[]): Promise<number> {
    const t0 = performance.now();
    for (const query of proceduralPoolQueries(this.o.seed, this.o.config.procedural.pool, sampleShape, this.o.config.procedural)) {
      const collected = await collectReplies(this.o.ports.map((p) => p.logits(query)), quorum);
      this.store(proceduralImages(query.procedural, sampleShape), collected, participation, pool);
    }
    return performance.now() - t0;
  }

  /** The student's features of `bank` replayed samples, for the generator's history repulsion. */
  private historyBank(sampleShape: number[], rng: Random): HistoryRepulsionInputs {
    const { bank: size, temperature, weight } = this.o.config.historyContrast;
    const drawn = this.replay.sample(size, rng);
    const bank = tf.tidy(() => this.studentFeatures.apply(tf.tensor(drawn.x, [drawn.n, ...sampleShape]), { training: false }) as tf.Tensor);
    return { features: this.studentFeatures, bank, temperature, weight };
  }

  private async runRound(round: number): Promise<RoundReport> {
    const c = this.o.config;
    const { generator: G, student: S } = this.o;
    const rng = seededRandom((this.o.seed * 1_000_003 + round) >>> 0);
    const C = this.infos[0].numClasses;
    const adversarial = round > c.warmupRounds;
    const t = { queries: 0, generator: 0, student: 0 };
    let gLoss = 0;
    const dLoss = { ce: 0, bn: 0, adv: 0 };
    const ports = this.o.ports;
    const quorum = this.o.quorum ?? { min: ports.length, deadlineMs: Infinity };
    const participation: Participation[] = ports.map((p) => ({ deviceId: p.deviceId, answered: 0, failed: 0, late: 0 }));
    const sampleShape = S.inputs[0].shape.slice(1) as number[];
    if (c.synthesis === 'generator' && c.generatorRestart > 0 && round > 1 && (round - 1) % c.generatorRestart === 0) this.restartGenerator(round);
    // Filled once: a resumed run restores the labelled pool from its checkpoint.
    if (this.procedural && this.procedural.length === 0) t.queries += await this.labelProceduralPool(this.procedural, sampleShape, quorum, participation);

    const histograms = this.infos.map((i) => i.labelHistogram);
    // How the devices weigh their own BN and CE terms: sent only when not the default, and the same every query.
    const deviceOptions = {
      ...(c.bnClassMix !== 'batch' ? { bnClassMix: c.bnClassMix } : {}),
      ...(c.bnFirstLayer !== 1 ? { bnFirstLayer: c.bnFirstLayer } : {}),
      ...(c.ceFocal > 0 ? { ceFocal: c.ceFocal } : {}),
    };
    // Fixed for the round from what the buffer holds at its start, so a resumed round asks for the same classes.
    const requestShares = c.requestBalance > 0 && this.replay.length > 0 ? scarcityShares(this.replay.topLabels().counts, c.requestBalance) : undefined;
    for (let step = 0; step < c.generatorSteps; step++) {
      const targets = requestShares ? labelsByShares(c.batchSize, requestShares, rng) : balancedLabels(c.batchSize, C, rng);
      const zValues = Float32Array.from({ length: c.batchSize * c.zDim }, () => rng.normal());
      const z = tf.tensor2d(zValues, [c.batchSize, c.zDim]);
      // Draws only when on, so runs without label mixtures keep their random stream (and their checkpoints).
      const soft = c.synthesis === 'generator' && c.labelMix > 0 ? mixTargets(targets, C, c.labelMix, rng) : undefined;
      const yOneHot = soft ? tf.tensor2d(soft, [c.batchSize, C]) : tf.oneHot(tf.tensor1d(targets, 'int32'), C).toFloat();
      // Draws only when jitter is on, so runs without it keep their random stream (and their checkpoints).
      const jitter = c.synthesis === 'generator' && jitterEnabled(c.jitter) ? drawJitter(c.jitter, rng) : undefined;
      const mask = c.synthesis === 'generator' && c.cutout > 0 && sampleShape.length === 3 ? drawCutoutMask(c.batchSize, sampleShape[0], sampleShape[1], c.cutout, rng) : undefined;
      const scales = c.synthesis === 'generator' && c.zoom > 0 && sampleShape.length === 3 ? drawZoomScales(c.batchSize, c.zoom, rng) : undefined;
      const augment = jitter || mask || scales ? (t: tf.Tensor) => tf.tidy(() => {
        const zoomed = scales ? applyZoom(t, scales) : t;
        const moved = jitter ? applyJitter(zoomed, jitter) : zoomed;
        return mask ? applyCutout(moved, mask) : moved;
      }) : undefined;
      const x = c.synthesis === 'noise'
        ? noiseLike(G, c.batchSize, rng)
        : tf.tidy(() => {
            const generated = G.apply([z, yOneHot], { training: true }) as tf.Tensor;
            return augment ? augment(generated) : generated;
          });
      const inputs = { shape: x.shape, values: (await x.data()) as Float32Array };
      const studentProbs = adversarial ? tf.tidy(() => tf.softmax(S.apply(x, { training: false }) as tf.Tensor)) : undefined;
      const studentData = studentProbs ? { shape: studentProbs.shape, values: (await studentProbs.data()) as Float32Array } : undefined;
      studentProbs?.dispose();
      x.dispose();

      let t0 = performance.now();
      const shares = ceSampleWeights(histograms, targets, c.ceFloor);
      const ensembleCe = c.synthesis === 'generator' && c.generatorCe === 'ensemble' ? await this.ensembleClassWeights(inputs, targets, quorum) : undefined;
      const classWeights = ensembleCe?.perDevice ?? (soft ? softTargetWeights(histograms, soft, c.ceFloor).map((values) => ({ shape: [c.batchSize, C], values })) : undefined);
      const weights = { ...c.device, adv: adversarial ? c.device.adv : 0 };
      // Draws only when on, so runs without SmoothGrad keep their random stream (and their checkpoints).
      const smoothGrad = c.synthesis === 'generator' && c.smoothGrad.sigma > 0 ? { ...c.smoothGrad, seed: rng.int(0x7fffffff) } : undefined;
      const extras = smoothGrad ? { ...deviceOptions, smoothGrad } : deviceOptions;
      // Labelled noise trains no generator, so it needs the teachers' logits only: no gradients, no student
      // probabilities, a fraction of the bytes.
      const collected = await collectReplies<GradientReply>(
        ports.map((p, d) =>
          classWeights && !classWeights[d]
            ? Promise.reject(new Error(`device ${p.deviceId} did not answer the logits query of this step`))
            : c.synthesis === 'generator'
            ? p.gradient({ inputs, targets, sampleWeights: shares[d], ...(classWeights ? { classWeights: classWeights[d] } : {}), studentProbs: studentData, weights, ...extras })
            : p.logits({ inputs }).then((r) => ({ logits: r.logits, inputGradient: { shape: inputs.shape, values: new Float32Array(0) }, loss: { ce: 0, bn: 0, adv: 0 } })),
        ),
        quorum,
      );
      t.queries += performance.now() - t0;
      const logits = this.store(inputs.values, collected, participation);
      const replies = collected.replies.map((r) => r.value);
      const gradSum = new Float32Array(inputs.values.length);
      for (const r of replies) {
        if (c.synthesis === 'generator') for (let i = 0; i < gradSum.length; i++) gradSum[i] += r.inputGradient.values[i];
        // With the ensemble CE, each device's CE term is only its part of a gradient: log the vote's CE instead.
        if (!ensembleCe) dLoss.ce += r.loss.ce / replies.length / c.generatorSteps;
        dLoss.bn += r.loss.bn / replies.length / c.generatorSteps;
        dLoss.adv += r.loss.adv / replies.length / c.generatorSteps;
      }
      if (ensembleCe) dLoss.ce += ensembleCe.ce / c.generatorSteps;
      t0 = performance.now();
      // Draws from the random stream only when on, so runs without it keep their streams (and checkpoints).
      const history = c.synthesis === 'generator' && c.historyContrast.weight > 0 && this.replay.length > 0 ? this.historyBank(sampleShape, rng) : undefined;
      const deviceGradient = tf.tensor(gradSum, inputs.shape);
      const teacherProbs = adversarial && c.coordinatorAdv > 0 ? logits.map((l) => tf.tensor2d(softmaxRows(l, C), [c.batchSize, C])) : [];
      if (c.synthesis === 'generator') gLoss += generatorStep(G, S, this.generatorOptimizer, { z, yOneHot, deviceGradient, teacherProbs, coordinatorAdv: adversarial ? c.coordinatorAdv : 0, diversity: c.diversity, imagePrior: c.imagePrior, augment, history }) / c.generatorSteps;
      tf.dispose([z, yOneHot, deviceGradient, ...teacherProbs, ...(history ? [history.bank] : [])]);
      t.generator += performance.now() - t0;
      this.o.onStep?.(step + 1, c.generatorSteps);
    }

    // Only draws from the random stream when on, so runs without it keep their streams (and checkpoints).
    const relabelBatches = round >= c.relabel.fromRound ? c.relabel.batches : 0;
    for (let b = 0; b < relabelBatches && this.replay.length > 0; b++) {
      const drawn = relabelInputs(this.replay, c.batchSize, sampleShape, c.relabel, rng);
      const inputs = c.relabel.adversarial > 0 ? { shape: drawn.shape, values: towardDisagreement(S, drawn, c.tau, c.relabel.adversarial) } : { shape: drawn.shape, values: drawn.values };
      const t1 = performance.now();
      const collected = await collectReplies(ports.map((p) => p.logits({ inputs })), quorum);
      t.queries += performance.now() - t1;
      this.store(inputs.values, collected, participation);
    }

    const t0 = performance.now();
    const studentLoss = trainStudentRound({ student: S, features: this.studentFeatures, optimizer: this.studentOptimizer, replay: this.replay, procedural: this.procedural, heads: this.teacherHeads, average: this.studentAverage, config: c, sampleShape }, round, rng);
    t.student += performance.now() - t0;
    return {
      round,
      rounds: c.rounds,
      generatorLoss: gLoss,
      studentLoss: studentLoss.kd,
      ...(studentLoss.heads === undefined ? {} : { teacherHeadsLoss: studentLoss.heads }),
      deviceLoss: dLoss,
      seconds: { queries: t.queries / 1000, generator: t.generator / 1000, student: t.student / 1000 },
      participation,
    };
  }
}
