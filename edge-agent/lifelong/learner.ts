/**
 * Lifelong local learning for the agent (issue 6): as labeled data arrives, possibly with new classes, the
 * model is updated with cross-entropy on the new data plus
 *  - Learning without Forgetting (lwf.ts) towards the model's own outputs from before the update,
 *  - experience replay from a bounded reservoir memory (reservoir.ts): every mini-batch of new samples is
 *    joined by an equally large batch drawn from the memory (Chaudhry et al. 2019, "ER"), and
 *  - an asymmetric cross-entropy (ER-ACE, see update) so new classes do not simply overwrite old ones.
 * Naive fine-tuning is the same code with no distillation, no memory and a plain softmax (naiveOptions).
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom, type Random } from '../../shared/random.js';
import { featureCount, type Dataset } from '../../shared/data/dataset.js';
import { predictLogits } from '../../shared/train/batches.js';
import { ReservoirBuffer } from './reservoir.js';
import { classMask, lwfDistillation, maskedCrossEntropy } from './lwf.js';

export interface LifelongOptions {
  /** Replay memory in samples (0: no replay). */
  memorySize: number;
  /** Weight of the LwF distillation term, lambda_o in Li & Hoiem (default 1; 0 turns LwF off). */
  lwfWeight?: number;
  /** Distillation temperature T (default 2, as in Li & Hoiem). */
  temperature?: number;
  /** New samples' cross-entropy only over the classes in their update (default true; see update). */
  asymmetric?: boolean;
  /** Passes over each update's new data. */
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  seed: number;
}

/**
 * The naive fine-tuning baseline through the same code: no distillation, no memory, and the plain
 * softmax cross-entropy over every class seen so far.
 */
export function naiveOptions(o: LifelongOptions): LifelongOptions {
  return { ...o, memorySize: 0, lwfWeight: 0, asymmetric: false };
}

export interface UpdateReport {
  newClasses: number[];
  seenClasses: number[];
  samples: number;
  replayed: number;
  meanLoss: number;
  seconds: number;
}

/** Copies rows of `x` (and labels, teacher logits) into one batch. */
function gather(rows: number[], x: Float32Array, f: number, into: Float32Array, at: number): void {
  for (let i = 0; i < rows.length; i++) into.set(x.subarray(rows[i] * f, (rows[i] + 1) * f), (at + i) * f);
}

export class LifelongLearner {
  readonly buffer: ReservoirBuffer;
  private readonly seen = new Set<number>();
  private readonly rng: Random;
  private readonly features: number;

  /**
   * @param model    a logits model, updated in place
   * @param like     the shape of the data to expect (sampleShape, numClasses)
   */
  constructor(
    readonly model: tf.LayersModel,
    private readonly like: Pick<Dataset, 'sampleShape' | 'numClasses'>,
    readonly options: LifelongOptions,
  ) {
    if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`LifelongLearner: epochs must be a positive integer, got ${options.epochs}`);
    if ((options.temperature ?? 2) <= 0) throw new Error(`LifelongLearner: temperature must be > 0, got ${options.temperature}`);
    if ((options.lwfWeight ?? 1) < 0) throw new Error(`LifelongLearner: lwfWeight must be >= 0, got ${options.lwfWeight}`);
    this.rng = seededRandom(options.seed);
    this.features = featureCount({ sampleShape: like.sampleShape } as Dataset);
    this.buffer = new ReservoirBuffer(options.memorySize, this.features, seededRandom(options.seed + 1));
  }

  /** Classes learned so far, ascending. */
  get seenClasses(): number[] {
    return [...this.seen].sort((a, b) => a - b);
  }

  /**
   * Learns from newly arrived labeled samples. They stream into the replay memory during the first pass,
   * so replay also balances new classes against old ones.
   */
  async update(data: Dataset): Promise<UpdateReport> {
    if (featureCount(data) !== this.features) throw new Error(`update: samples have shape [${data.sampleShape}], the learner expects [${this.like.sampleShape}]`);
    const started = performance.now();
    const old = this.seenClasses;
    const newClasses = [...new Set(data.y)].filter((c) => !this.seen.has(c)).sort((a, b) => a - b);
    // Check every label before touching any state, so a bad batch changes nothing.
    const bad = data.y.find((c) => c < 0 || c >= this.like.numClasses);
    if (bad !== undefined) throw new Error(`update: label ${bad} is outside 0..${this.like.numClasses - 1}`);
    for (const c of data.y) this.seen.add(c);
    const lwf = (this.options.lwfWeight ?? 1) > 0 && old.length > 0;
    const k = this.like.numClasses;
    const f = this.features;
    const batchSize = this.options.batchSize ?? 32;
    // The previous model's responses, recorded once before training (Li & Hoiem, Algorithm 1), for the
    // new data and for every memory slot; a new sample entering the memory brings its own along.
    const teacherNew = lwf ? predictLogits(this.model, data) : undefined;
    const teacherSlots = lwf ? new Float32Array(this.buffer.capacity * k) : undefined;
    if (teacherSlots && this.buffer.size) teacherSlots.set(predictLogits(this.model, this.buffer.toDataset(this.like)));
    // Asymmetric cross-entropy (ER-ACE: Caccia et al. 2022, "New Insights on Reducing Abrupt Representation
    // Change in Online Continual Learning"): new samples compete only among the classes of this update,
    // replayed ones among all classes seen so far. A plain softmax over all seen classes on the new data
    // pushes every old class down, and the old classes are lost however well LwF keeps their relative scores.
    const newMask = classMask(k, this.options.asymmetric === false ? this.seen : new Set(data.y)).dataSync();
    const seenMask = classMask(k, this.seen).dataSync();
    const oldMask = classMask(k, old);
    const optimizer = tf.train.adam(this.options.learningRate ?? 1e-3);
    const order = Array.from(data.y, (_, i) => i);
    const xb = new Float32Array(2 * batchSize * f);
    const yb = new Int32Array(2 * batchSize);
    const tb = new Float32Array(2 * batchSize * k);
    const mb = new Float32Array(2 * batchSize * k);
    let lossSum = 0;
    let steps = 0;
    let replayed = 0;
    for (let epoch = 0; epoch < this.options.epochs; epoch++) {
      this.rng.shuffle(order);
      for (let start = 0; start < order.length; start += batchSize) {
        const rows = order.slice(start, start + batchSize);
        const mem = Array.from({ length: this.buffer.size ? batchSize : 0 }, () => this.rng.int(this.buffer.size));
        const n = rows.length + mem.length;
        gather(rows, data.x, f, xb, 0);
        gather(mem, this.buffer.x, f, xb, rows.length);
        rows.forEach((r, i) => (yb[i] = data.y[r]));
        mem.forEach((r, i) => (yb[rows.length + i] = this.buffer.y[r]));
        for (let i = 0; i < n; i++) mb.set(i < rows.length ? newMask : seenMask, i * k);
        if (teacherNew) gather(rows, teacherNew, k, tb, 0);
        if (teacherSlots) gather(mem, teacherSlots, k, tb, rows.length);
        const loss = tf.tidy(() => {
          const x = tf.tensor(xb.subarray(0, n * f), [n, ...this.like.sampleShape]);
          const y = tf.tensor1d(yb.subarray(0, n), 'int32');
          const mask = tf.tensor2d(mb.subarray(0, n * k), [n, k]);
          const teacher = lwf ? tf.tensor2d(tb.subarray(0, n * k), [n, k]) : undefined;
          return optimizer.minimize(() => {
            const logits = this.model.apply(x, { training: true }) as tf.Tensor2D;
            const ce = maskedCrossEntropy(logits, y, mask);
            if (!teacher) return ce;
            const distill = lwfDistillation(logits, teacher, oldMask, this.options.temperature ?? 2);
            return tf.add(ce, tf.mul(distill, this.options.lwfWeight ?? 1)) as tf.Scalar;
          }, true)!;
        });
        const value = (await loss.data())[0];
        loss.dispose();
        if (!Number.isFinite(value)) throw new Error(`update: loss became ${value}; lower the learning rate`);
        lossSum += value;
        steps++;
        replayed += mem.length;
        // The memory sees the data as a stream: each sample is offered once, right after its first step.
        if (epoch === 0) {
          for (const r of rows) {
            const slot = this.buffer.add(data.x.subarray(r * f, (r + 1) * f), data.y[r]);
            if (slot >= 0 && teacherSlots && teacherNew) teacherSlots.set(teacherNew.subarray(r * k, (r + 1) * k), slot * k);
          }
        }
      }
    }
    oldMask.dispose();
    optimizer.dispose();
    return {
      newClasses, seenClasses: this.seenClasses, samples: data.y.length, replayed,
      meanLoss: lossSum / Math.max(1, steps), seconds: (performance.now() - started) / 1000,
    };
  }

  /**
   * Records data the model has already been trained on (the agent's initial samples): its classes count
   * as seen, and it streams into the replay memory, without a training step.
   */
  remember(data: Dataset): void {
    if (featureCount(data) !== this.features) throw new Error(`remember: samples have shape [${data.sampleShape}], the learner expects [${this.like.sampleShape}]`);
    for (const c of data.y) this.seen.add(c);
    this.buffer.addAll(data);
  }

  /** Predicted classes, restricted to the classes learned so far. */
  predict(d: Dataset): Int32Array {
    const k = this.like.numClasses;
    const logits = predictLogits(this.model, d);
    const out = new Int32Array(d.y.length);
    for (let i = 0; i < out.length; i++) {
      let best = -1;
      for (let c = 0; c < k; c++) if (this.seen.has(c) && (best < 0 || logits[i * k + c] > logits[i * k + best])) best = c;
      out[i] = best;
    }
    return out;
  }

  /** Accuracy on labeled data, predicting among the classes learned so far. */
  accuracyOn(d: Dataset): number {
    const predicted = this.predict(d);
    let correct = 0;
    for (let i = 0; i < predicted.length; i++) if (predicted[i] === d.y[i]) correct++;
    return predicted.length ? correct / predicted.length : NaN;
  }
}
