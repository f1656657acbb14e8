/**
 * The edge agent: one object that owns the device's samples, its local teacher, the int8 student it
 * serves, lifelong learning from ingested samples, the local HTTP API and the link to the coordinator.
 *
 *   const agent = await startAgent(loadAgentConfig('agent.json'));
 *   agent.predict(x);            // library inference: labels and probabilities from the serving model
 *   agent.ingest([{x, y}]);      // new labeled samples: stored durably, learned without forgetting
 *   await agent.stop();
 *
 * Privacy: samples and weights stay here. The coordinator only ever receives the protocol's answers
 * (capabilities with the label histogram, logits, input gradients, acks, errors) and telemetry.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../shared/compute/backend.js';
import type { Dataset } from '../../shared/data/dataset.js';
import { capabilitiesBody, type DeviceFacts } from '../../shared/distill/wire.js';
import { softmaxRows } from '../../shared/math/softmax.js';
import { argmaxRows } from '../../shared/metrics/index.js';
import type { AnyEnvelope, Draft } from '../../shared/protocol/envelope.js';
import { generateKeyFile, loadKeyFile, loadPublicIdentity, type Identity, type PublicIdentity } from '../../shared/security/index.js';
import type { Link } from '../../shared/transport/index.js';
import { deviceHandler } from '../serve-teacher.js';
import type { TeacherPort } from '../../shared/distill/port.js';
import { LocalTeacher } from '../teacher/local-teacher.js';
import { teacherClassStats } from '../teacher/class-stats.js';
import { LifelongLearner, type UpdateReport } from '../lifelong/index.js';
import type { AgentConfig } from './config.js';
import { readSampleDir, SampleStore } from './samples.js';
import { floatPredictor, PublishRefused, ServingSlot, type ActiveModel } from './serving.js';
import { prepareLocalTeacher, storedTeacherIsCurrent, storeTeacher, type PreparedTeacher } from './teacher-source.js';
import { Uplink } from './uplink.js';
import { startAgentHttp } from './http.js';
import { startMqttIngest, type MqttIngest } from './mqtt-ingest.js';
import { queryChunkSize } from './memory.js';

/** Structured log sink: one event with fields. */
export interface AgentLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface AgentDeps {
  log?: AgentLogger;
  /**
   * Trains and stores the teacher outside this process (the CLI runs `agent train-teacher` as a child);
   * without it the teacher is trained in-process.
   */
  trainTeacher?: () => Promise<void>;
  /** Opens the coordinator link (tests wire in-memory links); default by URL scheme. */
  connect?: (identity: Identity, coordinator: PublicIdentity) => Promise<Link>;
}

/** One prediction. */
export interface Prediction {
  label: number;
  probabilities: number[];
}

/** A serialized queue: the teacher's queries and lifelong updates never interleave. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => {});
    return next;
  }
}

const silent: AgentLogger = { info: () => {}, warn: () => {}, error: () => {} };

export class Agent {
  private readonly serial = new Serial();
  private learning?: Promise<UpdateReport | undefined>;
  private peakRss = 0;
  private rssTimer?: ReturnType<typeof setInterval>;
  private telemetryTimer?: ReturnType<typeof setInterval>;
  private http?: { url: string; close(): Promise<void> };
  private mqtt?: MqttIngest;
  private uplink?: Uplink;
  readonly updates: UpdateReport[] = [];
  readonly startedAt = Date.now();

  private constructor(
    readonly config: AgentConfig,
    readonly identity: Identity,
    readonly samples: SampleStore,
    private readonly heldOut: Dataset,
    private readonly calibration: Float32Array,
    private readonly model: tf.LayersModel,
    readonly teacher: LocalTeacher,
    private readonly teacherDir: string,
    readonly serving: ServingSlot,
    private readonly learner: LifelongLearner | undefined,
    private readonly facts: DeviceFacts,
    private readonly log: AgentLogger,
  ) {}

  /** Loads everything, serves locally at once, and connects to the coordinator in the background. */
  static async start(config: AgentConfig, deps: AgentDeps = {}): Promise<Agent> {
    const log = deps.log ?? silent;
    const backend = await initBackend((line) => log.info('backend', { line }));
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    if (!existsSync(config.keyFile)) {
      const k = await generateKeyFile(config.keyFile);
      log.info('key generated', { device: k.identity.id, publicKey: k.publicPath });
    }
    const identity = await loadKeyFile(config.keyFile);
    const format = { sampleShape: config.data.sampleShape, numClasses: config.data.numClasses };
    if (deps.trainTeacher && config.teacher.kind === 'train' && !storedTeacherIsCurrent(config.teacher, format, config.dataDir)) {
      // Training peaks far above serving (TF.js's batch-norm backward alone takes ~120 MB of wasm memory at
      // batch 64, and WebAssembly memory never shrinks), so it runs in a child process that exits after.
      log.info('training the teacher in a child process');
      await deps.trainTeacher();
    }
    const { samples, train, heldOut, files } = loadLocalSamples(config, log);
    const prepared = await prepareLocalTeacher(config.teacher, format, config.dataDir, train, (m, f) => log.info(m, f));
    const model = prepared.model;
    // Per-class BN statistics of the local samples, for coordinators that ask for bnClassMix 'class': one
    // inference pass over the training split while it is still in memory (nothing when the teacher has no BN).
    const measuring = performance.now();
    const classStats = teacherClassStats(model, train);
    if (classStats) log.info('per-class batch-norm statistics measured', { samples: train.y.length, seconds: Number(((performance.now() - measuring) / 1000).toFixed(1)) });
    const teacher = new LocalTeacher({ deviceId: identity.id, model, labelHistogram: samples.histogram(), maxChunk: queryChunkSize(model, config.queries.memoryBudgetMB), classStats, blackBox: !config.queries.gradients });
    const teacherPredict = floatPredictor(model, format.sampleShape);
    const coordinator = config.coordinator ? await loadPublicIdentity(config.coordinator.publicKey) : undefined;
    const serving = new ServingSlot(config.dataDir, format, coordinator?.signPublicKey, teacherPredict, (m, f) => log.info(m, f));
    serving.restore();
    let learner: LifelongLearner | undefined;
    if (config.lifelong.enabled) {
      const l = config.lifelong;
      learner = new LifelongLearner(model, format, { memorySize: l.memorySize, epochs: l.epochs, lwfWeight: l.lwfWeight, learningRate: l.learningRate, batchSize: l.batchSize, seed: config.data.seed });
      learner.remember(train);
    }
    // A copy, so the training split can be freed once the teacher is ready.
    const calibration = train.x.slice(0, Math.min(train.y.length, config.serving.calibrationSamples) * features(format.sampleShape));
    samples.releaseValues();
    const facts: DeviceFacts = { platform: `${process.platform}-${process.arch}`, backend, memoryMB: Math.round(process.memoryUsage().rss / 2 ** 20), modelSpec: config.teacher.kind === 'train' ? JSON.stringify(config.teacher.spec) : 'user-supplied' };
    const agent = new Agent(config, identity, samples, heldOut, calibration, model, teacher, prepared.dir, serving, learner, facts, log);
    await agent.open(coordinator, deps);
    return agent;
  }

  private async open(coordinator: PublicIdentity | undefined, deps: AgentDeps): Promise<void> {
    this.rssTimer = setInterval(() => this.sampleRss(), 1000);
    this.rssTimer.unref();
    this.sampleRss();
    if (this.config.http.enabled) {
      this.http = await startAgentHttp(this, this.config.http, this.log);
      this.log.info('local API listening', { url: this.http.url });
    }
    if (this.config.ingest.mqtt) this.mqtt = await startMqttIngest(this, this.config.ingest.mqtt, this.log);
    if (this.config.coordinator && coordinator) {
      const c = this.config.coordinator;
      const t = this.teacher;
      const port: TeacherPort = { deviceId: t.deviceId, info: () => t.info(), logits: (q) => this.serial.run(() => t.logits(q)), gradient: (q) => this.serial.run(() => t.gradient(q)) };
      const handler = deviceHandler(port, {
        next: (msg) => this.onPublish(msg),
        facts: this.facts,
        onError: (m, e) => this.log.warn('query failed', { type: m.type, code: e.code, reason: e.reason }),
      });
      this.uplink = new Uplink({
        url: c.url, fleet: c.fleet, identity: this.identity, coordinator, backoff: c.backoff, requestTimeoutMs: c.requestTimeoutMs, platform: this.facts.platform!, enrollmentToken: c.enrollmentToken,
        log: (m, f) => this.log.info(m, f),
        capabilities: async () => ({ type: 'capabilities.report', body: capabilitiesBody(await this.teacher.info(), this.facts) }),
        handler,
        connect: deps.connect ? () => deps.connect!(this.identity, coordinator) : undefined,
      });
      this.uplink.start();
    }
    if (this.config.telemetryMs > 0) {
      this.telemetryTimer = setInterval(() => void this.uplink?.notify({ type: 'telemetry.report', body: { metrics: this.telemetry() } }), this.config.telemetryMs);
      this.telemetryTimer.unref();
    }
  }

  /** model.publish: verified, quantized, checked and swapped in by the serving slot. */
  private async onPublish(msg: AnyEnvelope): Promise<Draft | undefined> {
    if (msg.type === 'model.publish') {
      try {
        const active = await this.serial.run(() => this.serving.accept(msg.body, { calibration: this.calibration, heldOut: this.heldOut, margin: this.config.serving.rollbackMargin }));
        this.log.info('model activated', { modelId: active.modelId, version: active.version, heldOutAccuracy: active.heldOutAccuracy });
        return { type: 'model.ack', body: { modelId: msg.body.modelId, version: msg.body.version } };
      } catch (e) {
        const code = e instanceof PublishRefused ? e.code : 'model_failed';
        this.log.warn('model refused; the current model keeps serving', { modelId: msg.body.modelId, version: msg.body.version, code, reason: (e as Error).message });
        return { type: 'error', body: { code, reason: (e as Error).message.slice(0, 2000) } };
      }
    }
    return undefined;
  }

  private sampleRss(): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss);
  }

  /** Labels and probabilities for `x`: a flat array of whole samples, or a list of samples. */
  predict(x: Float32Array): { predictions: Prediction[]; model: ActiveModel } {
    const k = this.config.data.numClasses;
    const { logits, model } = this.serving.predict(x);
    const probs = softmaxRows(logits, k);
    const labels = argmaxRows(logits, k);
    return { predictions: Array.from(labels, (label, i) => ({ label, probabilities: Array.from(probs.subarray(i * k, (i + 1) * k), (p) => Number(p.toFixed(6))) })), model };
  }

  /**
   * Stores new labeled samples (all or none: a bad one rejects the batch with a SampleError naming it) and
   * starts a lifelong update once `lifelong.updateEvery` new samples have gathered.
   */
  ingest(raw: unknown[]): { accepted: number; total: number; learning: boolean } {
    const accepted = this.samples.add(raw);
    this.teacher.setLabelHistogram(this.samples.histogram());
    if (this.learner && !this.learning && this.samples.pending >= this.config.lifelong.updateEvery) {
      this.learning = this.learn().finally(() => (this.learning = undefined));
    }
    return { accepted, total: this.samples.size, learning: this.learning !== undefined };
  }

  /** Runs one lifelong update now on the samples gathered since the last (resolves when done). */
  async learn(): Promise<UpdateReport | undefined> {
    if (!this.learner || this.samples.pending === 0) return undefined;
    const fresh = this.samples.takeNew();
    try {
      const report = await this.serial.run(() => this.learner!.update(fresh));
      await storeTeacher(this.model, this.teacherDir);
      // The teacher changed, so its per-class BN statistics did: re-measure them on the replay memory, which
      // holds a class-balanced sample of everything learned so far.
      const classStats = teacherClassStats(this.model, this.learner.buffer.toDataset(this.config.data));
      if (classStats) this.teacher.setClassStatistics(classStats);
      this.updates.push(report);
      if (this.updates.length > 100) this.updates.shift();
      this.log.info('learned from new samples', { samples: report.samples, newClasses: report.newClasses, seenClasses: report.seenClasses, seconds: Number(report.seconds.toFixed(1)) });
      // The label histogram changed: tell the coordinator, so its class weights follow.
      await this.uplink?.notify({ type: 'capabilities.report', body: capabilitiesBody(await this.teacher.info(), this.facts) });
      return report;
    } catch (e) {
      this.log.error('lifelong update failed; the model is unchanged on disk', { error: (e as Error).message });
      return undefined;
    }
  }

  /** Waits for a lifelong update in progress, if any. */
  async idle(): Promise<void> {
    await this.learning;
  }

  telemetry(): Record<string, number> {
    this.sampleRss();
    const active = this.serving.active;
    return {
      rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
      peak_rss_mb: Math.round(this.peakRss / 2 ** 20),
      samples: this.samples.size,
      lifelong_updates: this.updates.length,
      model_version: active.version ?? -1,
      ...(active.heldOutAccuracy !== undefined ? { held_out_accuracy: active.heldOutAccuracy } : {}),
    };
  }

  status(): Record<string, unknown> {
    this.sampleRss();
    return {
      device: this.identity.id,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      coordinator: this.config.coordinator ? { url: this.config.coordinator.url, state: this.uplink?.state ?? 'connecting', enrolledAt: this.uplink?.enrolledAt } : { state: 'disabled' },
      model: this.serving.active,
      publications: this.serving.history.slice(-20),
      samples: { total: this.samples.size, pending: this.samples.pending, heldOut: this.heldOut.y.length, histogram: this.samples.histogram() },
      lifelong: { enabled: !!this.learner, learning: this.learning !== undefined, updates: this.updates.length, seenClasses: this.learner?.seenClasses },
      memory: { rssMB: Math.round(process.memoryUsage().rss / 2 ** 20), peakRssMB: Math.round(this.peakRss / 2 ** 20) },
    };
  }

  get peakRssMB(): number {
    this.sampleRss();
    return this.peakRss / 2 ** 20;
  }

  get httpUrl(): string | undefined {
    return this.http?.url;
  }

  /** Finishes a lifelong update in progress, then closes every connection. */
  async stop(): Promise<void> {
    clearInterval(this.rssTimer);
    clearInterval(this.telemetryTimer);
    await this.learning;
    await this.uplink?.stop();
    await this.mqtt?.close();
    await this.http?.close();
  }
}

const features = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The local samples, with the held-out slice split off (deterministic: the same data and seed, the same split). */
function loadLocalSamples(config: AgentConfig, log: AgentLogger): { samples: SampleStore; train: Dataset; heldOut: Dataset; files: number } {
  const format = { sampleShape: config.data.sampleShape, numClasses: config.data.numClasses };
  const initial = config.data.dir ? readSampleDir(config.data.dir, format, config.data.idxScale) : undefined;
  const samples = new SampleStore(format, join(config.dataDir, 'samples', 'ingested.jsonl'), initial);
  if (samples.droppedOnLoad) log.warn('ingest file ended in a damaged line (a write cut short); dropped it', { file: samples.ingestFile });
  const split = samples.splitForHoldOut(config.data.heldOutFraction, config.data.seed);
  // A copy of the small held-out slice, so the full sample values can be released after start-up.
  const heldOut: Dataset = { ...split.heldOut, x: split.heldOut.x.slice(), y: split.heldOut.y.slice() };
  log.info('local samples', { samples: samples.size, train: split.train.y.length, heldOut: heldOut.y.length, files: initial?.files.length ?? 0 });
  return { samples, train: split.train, heldOut, files: initial?.files.length ?? 0 };
}

/**
 * Trains (or loads) and stores the local teacher, then returns: `distillery agent train-teacher`, which the
 * daemon runs as a child process so that training's memory is returned to the system when it exits.
 */
export async function trainTeacherOnly(config: AgentConfig, log: AgentLogger = silent): Promise<PreparedTeacher> {
  await initBackend((line) => log.info('backend', { line }));
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const format = { sampleShape: config.data.sampleShape, numClasses: config.data.numClasses };
  const { train } = loadLocalSamples(config, log);
  return prepareLocalTeacher(config.teacher, format, config.dataDir, train, (m, f) => log.info(m, f));
}

export const startAgent = Agent.start;
