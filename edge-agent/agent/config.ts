/**
 * agent.json: every option of `distillery agent start`, its default, and validation that names the bad
 * field (`agent.data.numClasses: must be an integer in 2..1000, got 1`). Documented field by field in
 * docs/edge-agent.md. Relative paths resolve against the config file's folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bool, ConfigError, int, isObj, num, oneOf, readJsonConfig, section, show, str } from '../../shared/config/fields.js';
import { PEER_ID_PATTERN } from '../../shared/protocol/messages.js';
import { parseModelSpec } from '../../shared/models/spec.js';
import { MODEL_PRESETS, resolveSpec } from '../../shared/models/presets.js';
import { SpecError } from '../../shared/models/spec-error.js';
import { parseTrainingAugmentation, type TrainingAugmentation } from '../../shared/train/augment.js';
import { checkOutliersRecalibrated } from '../../shared/train/outliers.js';
import { parseRecalibrateBn } from '../../shared/train/recalibrate.js';

export { ConfigError };

/** Where the local teacher comes from. */
export type TeacherSource =
  | { kind: 'train'; spec: unknown; epochs: number; batchSize: number; learningRate: number; seed: number; augment?: TrainingAugmentation; recalibrateBn?: boolean }
  /** A user-supplied TF.js layers model (e.g. Keras converted with tensorflowjs_converter). */
  | { kind: 'model'; path: string };

export interface AgentConfig {
  /** The agent's state: key, teacher, published models, ingested samples. */
  dataDir: string;
  keyFile: string;
  /** Absent: the agent runs offline (local inference and ingest only). */
  coordinator?: { url: string; publicKey: string; fleet: string; backoff: { initialMs: number; maxMs: number }; requestTimeoutMs: number; enrollmentToken?: string };
  data: {
    /** Initial local samples: IDX image/label pairs, CSV (label last) or JSON lines ({"x": [...], "y": k}). */
    dir?: string;
    sampleShape: number[];
    numClasses: number;
    /** Raw IDX bytes are divided by this (255 maps pixels to [0, 1]); CSV and JSON values are taken as they are. */
    idxScale: number;
    /** Fraction of local samples held out to check a published model before it serves (rollback). */
    heldOutFraction: number;
    seed: number;
  };
  teacher: TeacherSource;
  /**
   * Device memory the teacher may use to answer one query; bigger batches are answered in chunks.
   * `gradients` false makes the device a black box: it answers logits only (the coordinator then estimates
   * input gradients from seeded probes), for operators who will not release their teacher's gradients.
   */
  queries: { memoryBudgetMB: number; gradients: boolean };
  serving: { calibrationSamples: number; rollbackMargin: number };
  lifelong: { enabled: boolean; updateEvery: number; memorySize: number; epochs: number; lwfWeight: number; learningRate: number; batchSize: number };
  http: { enabled: boolean; host: string; port: number; maxBodyBytes: number };
  ingest: { mqtt?: { url: string; topic: string } };
  telemetryMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

const URL_PATTERN = /^(ws|wss|mqtt|mqtts|tcp):\/\/[^\s]+$/;

function parseTeacher(raw: unknown, path: string, base: string): TeacherSource {
  const t = section(raw ?? { spec: 'mlp' }, path, ['spec', 'model', 'epochs', 'batchSize', 'learningRate', 'seed', 'augment', 'recalibrateBn']);
  if (t.model !== undefined) {
    if (t.spec !== undefined) throw new ConfigError(`${path}: give either "spec" (train locally) or "model" (bring your own), not both`);
    const file = resolve(base, str(t.model, `${path}.model`, ''));
    return { kind: 'model', path: file.endsWith('.json') ? file : resolve(file, 'model.json') };
  }
  const given = t.spec ?? 'mlp';
  // A spec file path resolves against the config's folder, like every other path in agent.json.
  const isFile = typeof given === 'string' && !Object.hasOwn(MODEL_PRESETS, given) && !given.trim().startsWith('{') && existsSync(resolve(base, given));
  let spec: unknown;
  try {
    spec = typeof given === 'string' ? resolveSpec(isFile ? resolve(base, given) : given) : given;
    parseModelSpec(spec, `${path}.spec`);
  } catch (e) {
    // resolveSpec names the field plainly "spec"; say which one.
    if (e instanceof SpecError) throw new ConfigError(e.message.startsWith(path) ? e.message : `${path}.spec: ${e.path === 'spec' ? e.message.slice('spec: '.length) : e.message}`);
    throw e;
  }
  return {
    kind: 'train',
    spec,
    epochs: int(t.epochs, `${path}.epochs`, 5, 1, 10_000),
    batchSize: int(t.batchSize, `${path}.batchSize`, 64, 1, 65_536),
    learningRate: num(t.learningRate, `${path}.learningRate`, 1e-3, 1e-9, 10),
    seed: int(t.seed, `${path}.seed`, 1, 0),
    ...trainingExtras(t, path),
  };
}

/** Augmentation and BN recalibration of local teacher training, as in a scenario's `teachers` block; absent when off. */
function trainingExtras(t: Record<string, unknown>, path: string): { augment?: TrainingAugmentation; recalibrateBn?: boolean } {
  let augment: TrainingAugmentation | undefined;
  let recalibrateBn: true | undefined;
  try {
    augment = parseTrainingAugmentation(t.augment, `${path}.augment`);
    recalibrateBn = parseRecalibrateBn(t.recalibrateBn, `${path}.recalibrateBn`);
    checkOutliersRecalibrated(augment, recalibrateBn, path);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  return { ...(augment ? { augment } : {}), ...(recalibrateBn ? { recalibrateBn } : {}) };
}

/** Fills defaults and validates; relative paths resolve against `base`. */
export function parseAgentConfig(raw: unknown, base = process.cwd(), path = 'agent'): AgentConfig {
  const c = section(raw ?? {}, path, ['dataDir', 'keyFile', 'coordinator', 'data', 'teacher', 'queries', 'serving', 'lifelong', 'http', 'ingest', 'telemetryMs', 'logLevel']);
  const dataDir = resolve(base, str(c.dataDir, `${path}.dataDir`, './agent-data'));
  const d = section(c.data, `${path}.data`, ['dir', 'sampleShape', 'numClasses', 'idxScale', 'heldOutFraction', 'seed']);
  if (d.sampleShape === undefined) throw new ConfigError(`${path}.data.sampleShape: required, e.g. [28, 28, 1] for Fashion-MNIST or [30] for a 30-column table`);
  if (!Array.isArray(d.sampleShape) || d.sampleShape.length < 1 || d.sampleShape.length > 3 || d.sampleShape.some((v) => !Number.isInteger(v) || v < 1 || v > 4096))
    throw new ConfigError(`${path}.data.sampleShape: must be 1 to 3 positive integers, got ${show(d.sampleShape)}`);
  if (d.numClasses === undefined) throw new ConfigError(`${path}.data.numClasses: required (the number of classes the models predict)`);
  const q = section(c.queries, `${path}.queries`, ['memoryBudgetMB', 'gradients']);
  const s = section(c.serving, `${path}.serving`, ['calibrationSamples', 'rollbackMargin']);
  const l = section(c.lifelong, `${path}.lifelong`, ['enabled', 'updateEvery', 'memorySize', 'epochs', 'lwfWeight', 'learningRate', 'batchSize']);
  const h = section(c.http, `${path}.http`, ['enabled', 'host', 'port', 'maxBodyBytes']);
  const ing = section(c.ingest, `${path}.ingest`, ['mqtt']);
  const config: AgentConfig = {
    dataDir,
    keyFile: resolve(base, str(c.keyFile, `${path}.keyFile`, resolve(dataDir, 'agent.key'))),
    data: {
      sampleShape: d.sampleShape as number[],
      numClasses: int(d.numClasses, `${path}.data.numClasses`, 0, 2, 1000),
      idxScale: num(d.idxScale, `${path}.data.idxScale`, 255, 1e-9),
      heldOutFraction: num(d.heldOutFraction, `${path}.data.heldOutFraction`, 0.1, 0, 0.5),
      seed: int(d.seed, `${path}.data.seed`, 1, 0),
    },
    teacher: parseTeacher(c.teacher, `${path}.teacher`, base),
    queries: { memoryBudgetMB: num(q.memoryBudgetMB, `${path}.queries.memoryBudgetMB`, 32, 1, 65_536), gradients: bool(q.gradients, `${path}.queries.gradients`, true) },
    serving: {
      calibrationSamples: int(s.calibrationSamples, `${path}.serving.calibrationSamples`, 500, 1, 100_000),
      rollbackMargin: num(s.rollbackMargin, `${path}.serving.rollbackMargin`, 0.02, 0, 1),
    },
    lifelong: {
      enabled: bool(l.enabled, `${path}.lifelong.enabled`, true),
      updateEvery: int(l.updateEvery, `${path}.lifelong.updateEvery`, 200, 1, 10_000_000),
      memorySize: int(l.memorySize, `${path}.lifelong.memorySize`, 1000, 0, 10_000_000),
      epochs: int(l.epochs, `${path}.lifelong.epochs`, 2, 1, 1000),
      lwfWeight: num(l.lwfWeight, `${path}.lifelong.lwfWeight`, 1, 0, 1000),
      learningRate: num(l.learningRate, `${path}.lifelong.learningRate`, 1e-3, 1e-9, 10),
      // New samples per step (as many again come from the replay memory); small, because batch-norm
      // training memory grows with the batch and stays allocated in the daemon.
      batchSize: int(l.batchSize, `${path}.lifelong.batchSize`, 8, 1, 4096),
    },
    http: {
      enabled: bool(h.enabled, `${path}.http.enabled`, true),
      host: str(h.host, `${path}.http.host`, '127.0.0.1'),
      port: int(h.port, `${path}.http.port`, 7380, 0, 65535),
      maxBodyBytes: int(h.maxBodyBytes, `${path}.http.maxBodyBytes`, 8 * 2 ** 20, 1024, 2 ** 30),
    },
    ingest: {},
    telemetryMs: int(c.telemetryMs, `${path}.telemetryMs`, 60_000, 0),
    logLevel: oneOf(c.logLevel, `${path}.logLevel`, 'info', ['debug', 'info', 'warn', 'error'] as const),
  };
  if (d.dir !== undefined) config.data.dir = resolve(base, str(d.dir, `${path}.data.dir`, ''));
  if (c.coordinator !== undefined) {
    const co = section(c.coordinator, `${path}.coordinator`, ['url', 'publicKey', 'fleet', 'backoff', 'requestTimeoutMs', 'enrollmentToken']);
    const url = str(co.url, `${path}.coordinator.url`, '');
    if (!URL_PATTERN.test(url)) throw new ConfigError(`${path}.coordinator.url: must be a ws://, wss://, mqtt:// or mqtts:// URL, got ${show(co.url)}`);
    if (co.publicKey === undefined) throw new ConfigError(`${path}.coordinator.publicKey: required: the coordinator's .pub identity file (pinned; see docs/edge-agent.md)`);
    const b = section(co.backoff, `${path}.coordinator.backoff`, ['initialMs', 'maxMs']);
    config.coordinator = {
      url,
      publicKey: resolve(base, str(co.publicKey, `${path}.coordinator.publicKey`, '')),
      fleet: str(co.fleet, `${path}.coordinator.fleet`, 'default', PEER_ID_PATTERN),
      backoff: { initialMs: int(b.initialMs, `${path}.coordinator.backoff.initialMs`, 500, 1), maxMs: int(b.maxMs, `${path}.coordinator.backoff.maxMs`, 30_000, 1) },
      requestTimeoutMs: int(co.requestTimeoutMs, `${path}.coordinator.requestTimeoutMs`, 30_000, 100),
    };
    if (co.enrollmentToken !== undefined) config.coordinator.enrollmentToken = str(co.enrollmentToken, `${path}.coordinator.enrollmentToken`, '', /^[\x21-\x7e]{1,128}$/);
    if (config.coordinator.backoff.maxMs < config.coordinator.backoff.initialMs)
      throw new ConfigError(`${path}.coordinator.backoff.maxMs: must be >= initialMs (${config.coordinator.backoff.initialMs}), got ${config.coordinator.backoff.maxMs}`);
  }
  if (ing.mqtt !== undefined) {
    const m = section(ing.mqtt, `${path}.ingest.mqtt`, ['url', 'topic']);
    const url = str(m.url, `${path}.ingest.mqtt.url`, '');
    if (!/^(mqtt|mqtts|ws|wss|tcp):\/\/[^\s]+$/.test(url)) throw new ConfigError(`${path}.ingest.mqtt.url: must be a broker URL like mqtt://127.0.0.1:1883, got ${show(url)}`);
    const topic = str(m.topic, `${path}.ingest.mqtt.topic`, 'distillery/local/samples');
    if (/[#+]/.test(topic)) throw new ConfigError(`${path}.ingest.mqtt.topic: must be a plain topic without wildcards, got ${show(topic)}`);
    config.ingest.mqtt = { url, topic };
  }
  if (!config.data.dir && config.teacher.kind === 'train')
    throw new ConfigError(`${path}.data.dir: required to train the local teacher (or give teacher.model, a TF.js model to bring your own)`);
  return config;
}

/** Reads and validates agent.json. */
export function loadAgentConfig(file: string): AgentConfig {
  if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist`);
  const raw = readJsonConfig(file, (f) => readFileSync(f, 'utf8'));
  if (!isObj(raw)) throw new ConfigError(`${file}: must hold a JSON object, got ${show(raw)}`);
  return parseAgentConfig(raw, resolve(file, '..'));
}
