/**
 * A device's teacher behind the TeacherPort: it answers logits and input-gradient queries about inputs the
 * coordinator sends, and reports its label histogram. It holds its model and knows its data's label counts;
 * neither weights nor samples appear in any reply type.
 */
import * as tf from '@tensorflow/tfjs';
import { MAX_CE_FOCAL, MAX_SMOOTHGRAD_SAMPLES, type GradientQuery, type GradientReply, type LogitsQuery, type LogitsReply, type SmoothGradQuery, type TeacherInfo, type TeacherPort, type TensorData } from '../../shared/distill/port.js';
import { classBnWeights, deviceLoss, ownClassMix, smoothGradNoise, tapBatchNorm, type ClassBnTerms, type TappedTeacher } from './device-loss.js';
import { checkClassStats, type ClassBatchNormStats } from './class-stats.js';
import { probeSpecProblem, seededProbeInputs } from '../../shared/distill/probes.js';
import { proceduralSpecProblem, withProceduralInputs } from '../../shared/distill/procedural.js';

export interface LocalTeacherOptions {
  deviceId: string;
  model: tf.LayersModel;
  labelHistogram: number[];
  /** Answer only logits (a black-box device): gradient queries are refused. */
  blackBox?: boolean;
  /** Largest batch computed at once; bigger queries are chunked to bound memory. */
  maxChunk?: number;
  /**
   * The teacher's per-class BN statistics on this device's data (measureClassBatchNormStats), needed to answer
   * queries with bnClassMix 'class'. They stay on the device like the weights.
   */
  classStats?: ClassBatchNormStats;
}

function checkInputs(inputs: TensorData, inputShape: number[], deviceId: string): void {
  const expected = inputShape.reduce((a, b) => a * b, 1);
  const [n, ...rest] = inputs.shape;
  if (JSON.stringify(rest) !== JSON.stringify(inputShape) || inputs.values.length !== n * expected) {
    throw new Error(`device ${deviceId}: query inputs of shape [${inputs.shape.join(', ')}] (${inputs.values.length} values) do not match the teacher's input [batch, ${inputShape.join(', ')}]`);
  }
}

function checkSmoothGrad(s: SmoothGradQuery, deviceId: string): void {
  if (!(typeof s.sigma === 'number' && s.sigma >= 0 && Number.isFinite(s.sigma))) throw new Error(`device ${deviceId}: smoothGrad.sigma must be a finite number >= 0, got ${JSON.stringify(s.sigma)}`);
  if (!(Number.isInteger(s.samples) && s.samples >= 1 && s.samples <= MAX_SMOOTHGRAD_SAMPLES)) throw new Error(`device ${deviceId}: smoothGrad.samples must be an integer in 1..${MAX_SMOOTHGRAD_SAMPLES}, got ${JSON.stringify(s.samples)}`);
  if (!(Number.isInteger(s.seed) && s.seed >= 0)) throw new Error(`device ${deviceId}: smoothGrad.seed must be an integer >= 0, got ${JSON.stringify(s.seed)}`);
}

function checkCeFocal(gamma: number, deviceId: string): void {
  if (!(typeof gamma === 'number' && gamma >= 0 && gamma <= MAX_CE_FOCAL)) throw new Error(`device ${deviceId}: ceFocal must be a number in 0..${MAX_CE_FOCAL}, got ${JSON.stringify(gamma)}`);
}

export class LocalTeacher implements TeacherPort {
  readonly deviceId: string;
  private readonly model: tf.LayersModel;
  private readonly tapped: TappedTeacher;
  private histogram: number[];
  private readonly blackBox: boolean;
  private readonly maxChunk: number;
  private readonly inputShape: number[];
  private readonly numClasses: number;
  private classStats?: { counts: number[]; stats: ClassBnTerms['stats'] };

  constructor(o: LocalTeacherOptions) {
    this.deviceId = o.deviceId;
    this.model = o.model;
    this.tapped = tapBatchNorm(o.model);
    this.histogram = [...o.labelHistogram];
    this.blackBox = o.blackBox ?? false;
    this.maxChunk = o.maxChunk ?? 512;
    this.inputShape = o.model.inputs[0].shape.slice(1) as number[];
    this.numClasses = o.model.outputs[0].shape[1] as number;
    if (o.classStats) this.setClassStatistics(o.classStats);
  }

  /** Installs (or replaces, after the teacher learned) the per-class BN statistics for bnClassMix 'class'. */
  setClassStatistics(stats: ClassBatchNormStats): void {
    checkClassStats(stats, this.tapped, this.numClasses, this.deviceId);
    this.classStats?.stats.forEach((s) => tf.dispose([s.mean, s.variance]));
    const C = this.numClasses;
    this.classStats = {
      counts: [...stats.counts],
      stats: stats.layers.map((l) => ({ mean: tf.tensor2d(l.mean, [C, l.channels]), variance: tf.tensor2d(l.variance, [C, l.channels]) })),
    };
  }

  /** The per-class BN term's inputs for a query, or undefined when it does not ask for them. */
  private classBnTerms(query: GradientQuery): ClassBnTerms | undefined {
    if (query.bnClassMix !== 'class' || !query.weights.bn || this.tapped.bnStats.length === 0) return undefined;
    if (!this.classStats) throw new Error(`device ${this.deviceId} has no per-class batch-norm statistics, which bnClassMix 'class' needs; measure them on the device's data (measureClassBatchNormStats) or use bnClassMix 'batch'`);
    return { ...classBnWeights(query.targets, query.sampleWeights, this.classStats.counts), stats: this.classStats.stats };
  }

  /** New label counts after the device learned from new samples (reported at the next capabilities query). */
  setLabelHistogram(histogram: number[]): void {
    if (histogram.length !== this.numClasses) throw new Error(`device ${this.deviceId}: histogram has ${histogram.length} classes, the teacher ${this.numClasses}`);
    this.histogram = [...histogram];
  }

  async info(): Promise<TeacherInfo> {
    return {
      numClasses: this.numClasses,
      inputShape: [...this.inputShape],
      labelHistogram: [...this.histogram],
      hasBatchNorm: this.tapped.bnStats.length > 0,
      gradients: !this.blackBox,
    };
  }

  async logits(query: LogitsQuery): Promise<LogitsReply> {
    checkInputs(query.inputs, this.inputShape, this.deviceId);
    if (query.probes) {
      const problem = probeSpecProblem(query.probes);
      if (problem) throw new Error(`device ${this.deviceId}: ${problem}`);
    }
    if (query.procedural) {
      const problem = query.probes ? 'procedural images cannot be combined with probes' : proceduralSpecProblem(query.procedural, this.inputShape);
      if (problem) throw new Error(`device ${this.deviceId}: ${problem}`);
    }
    // Seeded probes: the device expands x into x and x + mu·u_k itself (shared/distill/probes.ts); procedural
    // images it draws from their seed (shared/distill/procedural.ts).
    const inputs = query.probes ? seededProbeInputs(query.inputs, query.probes) : query.procedural ? withProceduralInputs(query.inputs, query.procedural, this.inputShape) : query.inputs;
    const n = inputs.shape[0];
    const values = new Float32Array(n * this.numClasses);
    const per = this.inputShape.reduce((a, b) => a * b, 1);
    for (let start = 0; start < n; start += this.maxChunk) {
      const end = Math.min(n, start + this.maxChunk);
      const out = tf.tidy(() => this.model.predict(tf.tensor(inputs.values.subarray(start * per, end * per), [end - start, ...this.inputShape])) as tf.Tensor);
      values.set(await out.data(), start * this.numClasses);
      out.dispose();
    }
    return { logits: { shape: [n, this.numClasses], values } };
  }

  async gradient(query: GradientQuery): Promise<GradientReply> {
    if (this.blackBox) throw new Error(`device ${this.deviceId} is a black-box teacher: it answers logits only`);
    checkInputs(query.inputs, this.inputShape, this.deviceId);
    const n = query.inputs.shape[0];
    if (query.targets.length !== n) throw new Error(`device ${this.deviceId}: ${query.targets.length} targets for ${n} inputs`);
    for (const t of query.targets) {
      if (!(t >= 0 && t < this.numClasses)) throw new Error(`device ${this.deviceId}: target class ${t} is outside 0..${this.numClasses - 1}`);
    }
    const cw = query.classWeights;
    if (cw && (cw.shape.length !== 2 || cw.shape[0] !== n || cw.shape[1] !== this.numClasses || cw.values.length !== n * this.numClasses))
      throw new Error(`device ${this.deviceId}: classWeights must be [${n}, ${this.numClasses}], got [${cw.shape}] with ${cw.values.length} values`);
    const classBn = this.classBnTerms(query);
    if (query.smoothGrad) checkSmoothGrad(query.smoothGrad, this.deviceId);
    if (query.ceFocal !== undefined) checkCeFocal(query.ceFocal, this.deviceId);
    const smooth = query.smoothGrad && query.smoothGrad.sigma > 0 ? query.smoothGrad : undefined;
    // The BN term needs whole-batch statistics, so gradient queries are computed in one piece.
    const result = tf.tidy(() => {
      const x = tf.tensor(query.inputs.values, query.inputs.shape);
      const targets = tf.oneHot(tf.tensor1d(query.targets, 'int32'), this.numClasses);
      const sampleWeights = query.sampleWeights ? tf.tensor1d(query.sampleWeights) : tf.ones([n]);
      const classWeights = query.classWeights ? tf.tensor(query.classWeights.values, query.classWeights.shape) : undefined;
      const studentProbs = query.studentProbs ? tf.tensor(query.studentProbs.values, query.studentProbs.shape) : undefined;
      const bnSampleWeights = query.bnClassMix === 'own' ? ownClassMix(this.histogram, query.targets) : undefined;
      const noise = smooth ? tf.tensor(smoothGradNoise(smooth, query.inputs.values.length), [smooth.samples * n, ...this.inputShape]) : undefined;
      let terms: ReturnType<typeof deviceLoss> | undefined;
      const grad = tf.grad((input: tf.Tensor) => {
        terms = deviceLoss(this.tapped, { x: input, targets, sampleWeights, classWeights, studentProbs, weights: query.weights, bnSampleWeights, bnFirstLayer: query.bnFirstLayer, classBn, smoothGradNoise: noise, ceFocal: query.ceFocal });
        // tf.grad disposes everything but the loss; the logits and terms are part of the reply.
        [terms.logits, terms.ce, terms.bn, terms.adv].forEach((t) => tf.keep(t));
        return terms.total;
      })(x);
      return { grad, logits: terms!.logits, ce: terms!.ce, bn: terms!.bn, adv: terms!.adv };
    });
    const [grad, logits, ce, bn, adv] = await Promise.all([result.grad.data(), result.logits.data(), result.ce.data(), result.bn.data(), result.adv.data()]);
    tf.dispose(Object.values(result));
    return {
      logits: { shape: [n, this.numClasses], values: logits as Float32Array },
      inputGradient: { shape: [...query.inputs.shape], values: grad as Float32Array },
      loss: { ce: ce[0], bn: bn[0], adv: adv[0] },
    };
  }
}
