/**
 * Scenario files (simulations/scenarios/*.json): one fleet experiment, validated on load so a typo is
 * reported as "scenario.partition.alpha: must be > 0", never as a failure half an hour into a run.
 */
import { readFileSync, existsSync } from 'node:fs';
import { DATASET_NAMES } from '../shared/data/registry.js';
import { partitionSchemes } from '../shared/data/partition.js';
import { parseModelSpec } from '../shared/models/spec.js';
import { resolveSpec } from '../shared/models/presets.js';
import { parseTrainingAugmentation, type TrainingAugmentation } from '../shared/train/augment.js';
import { checkOutliersRecalibrated } from '../shared/train/outliers.js';
import { parseRecalibrateBn } from '../shared/train/recalibrate.js';
import { parseDistillConfig, type DistillConfig } from '../coordinator/engine/config.js';

export interface TeacherTraining {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Augmentation of each device's local training batches; absent: none. */
  augment?: TrainingAugmentation;
  /** After training, re-estimate the teacher's BN statistics on its clean local samples (shared/train/recalibrate.ts). */
  recalibrateBn?: boolean;
}

export interface Scenario {
  name: string;
  dataset: string;
  partition: { scheme: string; devices: number; alpha?: number; shardsPerDevice?: number };
  /** One spec for every device, or one per device (heterogeneous teachers). */
  teacherSpecs: unknown[];
  teacherTraining: TeacherTraining;
  /** Devices (by index) that only answer logits; the engine uses zeroth-order gradients for them. */
  blackBox: number[];
  studentSpec: unknown;
  distill: DistillConfig;
  baselines: { fedavgRounds: number; fedavgLocalEpochs: number; centralizedEpochs: number };
  seeds: number[];
  /**
   * Test the student after every n-th round and after the last (default 1, every round). A test pass over
   * Fashion-MNIST's 10,000 images costs the wide student about 2.7 s, a sixteenth of a round; the rounds'
   * training does not depend on it.
   */
  evaluateEvery: number;
  /** Keep only the first n training samples (quick runs and tests). */
  limit?: number;
}

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function wrap<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    const msg = (e as Error).message;
    throw new ScenarioError(msg.startsWith(path) ? msg : `${path}: ${msg}`);
  }
}

/** `{[key]: value}` when value is defined, else `{}`: absent settings stay out of cache keys. */
function optional<T>(key: string, value: T | undefined): Record<string, T> {
  return value === undefined ? {} : { [key]: value };
}

function int(v: unknown, path: string, min: number, fallback?: number): number {
  const x = v === undefined ? fallback : v;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) throw new ScenarioError(`${path}: must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return x;
}

function positive(v: unknown, path: string, fallback: number): number {
  const x = v === undefined ? fallback : v;
  if (typeof x !== 'number' || !(x > 0) || !Number.isFinite(x)) throw new ScenarioError(`${path}: must be a number > 0, got ${JSON.stringify(v)}`);
  return x;
}

function checkKeys(o: Obj, allowed: string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ScenarioError(`${path}.${k}: unknown field; allowed: ${allowed.join(', ')}`);
}

function spec(raw: unknown, path: string): unknown {
  return wrap(path, () => {
    const resolved = typeof raw === 'string' ? resolveSpec(raw) : raw;
    parseModelSpec(resolved, path);
    return resolved;
  });
}

export function parseScenario(raw: unknown, path = 'scenario'): Scenario {
  if (!isObj(raw)) throw new ScenarioError(`${path}: must be a JSON object`);
  checkKeys(raw, ['name', 'description', 'dataset', 'partition', 'teachers', 'student', 'distill', 'baselines', 'seeds', 'evaluateEvery', 'limit'], path);
  if (typeof raw.name !== 'string' || !raw.name) throw new ScenarioError(`${path}.name: must be a non-empty string`);
  if (typeof raw.dataset !== 'string' || !DATASET_NAMES.includes(raw.dataset)) {
    throw new ScenarioError(`${path}.dataset: unknown dataset ${JSON.stringify(raw.dataset)}; use one of ${DATASET_NAMES.join(', ')}`);
  }
  const p = raw.partition;
  if (!isObj(p)) throw new ScenarioError(`${path}.partition: must be an object like {"scheme": "dirichlet", "alpha": 0.5, "devices": 5}`);
  checkKeys(p, ['scheme', 'devices', 'alpha', 'shardsPerDevice'], `${path}.partition`);
  if (typeof p.scheme !== 'string' || !partitionSchemes().includes(p.scheme)) {
    throw new ScenarioError(`${path}.partition.scheme: unknown scheme ${JSON.stringify(p.scheme)}; use one of ${partitionSchemes().join(', ')}`);
  }
  const devices = int(p.devices, `${path}.partition.devices`, 1);
  const needsAlpha = p.scheme === 'dirichlet' || p.scheme === 'quantity';
  const alpha = needsAlpha || p.alpha !== undefined ? positive(p.alpha, `${path}.partition.alpha`, NaN) : undefined;
  const t = raw.teachers;
  if (!isObj(t)) throw new ScenarioError(`${path}.teachers: must be an object with "spec" (or "specs", one per device)`);
  checkKeys(t, ['spec', 'specs', 'epochs', 'batchSize', 'learningRate', 'augment', 'recalibrateBn', 'blackBox'], `${path}.teachers`);
  let teacherSpecs: unknown[];
  if (t.specs !== undefined) {
    if (!Array.isArray(t.specs) || t.specs.length !== devices) throw new ScenarioError(`${path}.teachers.specs: must list one spec per device (${devices})`);
    teacherSpecs = t.specs.map((s, i) => spec(s, `${path}.teachers.specs[${i}]`));
  } else {
    if (t.spec === undefined) throw new ScenarioError(`${path}.teachers.spec: required (or give "specs", one per device)`);
    teacherSpecs = new Array(devices).fill(spec(t.spec, `${path}.teachers.spec`));
  }
  const blackBox = t.blackBox === undefined ? [] : t.blackBox;
  if (!Array.isArray(blackBox) || blackBox.some((d) => !Number.isInteger(d) || d < 0 || d >= devices)) {
    throw new ScenarioError(`${path}.teachers.blackBox: must be a list of device indices in 0..${devices - 1}`);
  }
  const s = raw.student;
  if (!isObj(s) || s.spec === undefined) throw new ScenarioError(`${path}.student: must be an object with a "spec"`);
  checkKeys(s, ['spec'], `${path}.student`);
  const b = raw.baselines === undefined ? {} : raw.baselines;
  if (!isObj(b)) throw new ScenarioError(`${path}.baselines: must be an object`);
  checkKeys(b, ['fedavgRounds', 'fedavgLocalEpochs', 'centralizedEpochs'], `${path}.baselines`);
  const seeds = raw.seeds === undefined ? [1] : raw.seeds;
  if (!Array.isArray(seeds) || seeds.length === 0 || seeds.some((x) => !Number.isInteger(x) || x < 0)) {
    throw new ScenarioError(`${path}.seeds: must be a non-empty list of integers >= 0`);
  }
  const teacherTraining: Scenario['teacherTraining'] = {
    epochs: int(t.epochs, `${path}.teachers.epochs`, 1, 20),
    batchSize: int(t.batchSize, `${path}.teachers.batchSize`, 1, 64),
    learningRate: positive(t.learningRate, `${path}.teachers.learningRate`, 1e-3),
    ...optional('augment', wrap(`${path}.teachers.augment`, () => parseTrainingAugmentation(t.augment, `${path}.teachers.augment`))),
    ...optional('recalibrateBn', wrap(`${path}.teachers.recalibrateBn`, () => parseRecalibrateBn(t.recalibrateBn, `${path}.teachers.recalibrateBn`))),
  };
  wrap(`${path}.teachers`, () => checkOutliersRecalibrated(teacherTraining.augment, teacherTraining.recalibrateBn, `${path}.teachers`));
  return {
    name: raw.name,
    dataset: raw.dataset,
    partition: { scheme: p.scheme, devices, alpha, shardsPerDevice: p.shardsPerDevice as number | undefined },
    teacherSpecs,
    teacherTraining,
    blackBox: blackBox as number[],
    studentSpec: spec(s.spec, `${path}.student.spec`),
    distill: wrap(`${path}.distill`, () => parseDistillConfig(raw.distill, `${path}.distill`)),
    baselines: {
      fedavgRounds: int(b.fedavgRounds, `${path}.baselines.fedavgRounds`, 1, 10),
      fedavgLocalEpochs: int(b.fedavgLocalEpochs, `${path}.baselines.fedavgLocalEpochs`, 1, 1),
      centralizedEpochs: int(b.centralizedEpochs, `${path}.baselines.centralizedEpochs`, 1, 20),
    },
    seeds: seeds as number[],
    evaluateEvery: int(raw.evaluateEvery, `${path}.evaluateEvery`, 1, 1),
    limit: raw.limit === undefined ? undefined : int(raw.limit, `${path}.limit`, 1),
  };
}

export function loadScenario(file: string): Scenario {
  if (!existsSync(file)) throw new ScenarioError(`scenario file ${file} does not exist (scenarios ship in simulations/scenarios/)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ScenarioError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseScenario(raw);
}
