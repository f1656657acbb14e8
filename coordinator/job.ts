/**
 * The distillation job a coordinator runs: the student spec, the distill settings, the seed and the
 * held-out evaluation data, resolved from coordinator.json (and the scenario file it may name) at start-up,
 * so a typo in a setting fails before any device connects, with the field named.
 */
import { parseDistillConfig, type DistillConfig } from './engine/config.js';
import { parseModelSpec } from '../shared/models/spec.js';
import { resolveSpec } from '../shared/models/presets.js';
import { DATASET_NAMES } from '../shared/data/registry.js';
import { loadScenario } from '../simulations/scenario.js';
import { ConfigError, type JobConfig } from './config.js';

/** A resolved job, as the engine worker receives it (plain data, structured-clone safe). */
export interface JobSpec {
  name: string;
  /** Registry id of the students this job produces (the job name, when it is a valid model id). */
  modelId: string;
  studentSpec: unknown;
  distill: DistillConfig;
  seed: number;
  evaluation?: { dataset: string; splitSeed: number; limit?: number };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Loads the scenario (if any) and merges the job's overrides over it; throws ConfigError naming the field. */
export function resolveJob(job: JobConfig, path = 'coordinator.job'): JobSpec {
  const at = <T>(field: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      const msg = (e as Error).message;
      throw new ConfigError(msg.startsWith(`${path}.`) ? msg : `${path}.${field}: ${msg}`);
    }
  };
  const scenario = job.scenario === undefined ? undefined : at('scenario', () => loadScenario(job.scenario!));
  const studentRaw = job.student ?? scenario?.studentSpec;
  const studentSpec = at('student', () => {
    const resolved = typeof studentRaw === 'string' ? resolveSpec(studentRaw) : studentRaw;
    parseModelSpec(resolved, `${path}.student`);
    return resolved;
  });
  // Nested settings merge field by field, so {"device": {"bn": 1}} keeps the scenario's other weights.
  const over = job.distill ?? {};
  const merged: Obj = { ...(scenario?.distill ?? {}), ...over };
  for (const k of ['device', 'zerothOrder']) if (isObj(over[k])) merged[k] = { ...((scenario?.distill as unknown as Obj)?.[k] as Obj), ...(over[k] as Obj) };
  const distill = at('distill', () => parseDistillConfig(merged, `${path}.distill`));
  let evaluation: JobSpec['evaluation'];
  if (job.evaluation !== false) {
    const e = job.evaluation ?? (scenario ? { dataset: scenario.dataset, limit: scenario.limit } : undefined);
    if (e) {
      if (!DATASET_NAMES.includes(e.dataset)) throw new ConfigError(`${path}.evaluation.dataset: unknown dataset ${JSON.stringify(e.dataset)}; use one of ${DATASET_NAMES.join(', ')}`);
      // The same split the in-process runner uses for this seed, so accuracies compare like for like.
      evaluation = { dataset: e.dataset, splitSeed: (e as { splitSeed?: number }).splitSeed ?? job.seed };
      if (e.limit !== undefined) evaluation.limit = e.limit;
    }
  }
  const name = scenario?.name ?? 'job';
  return { name, modelId: /^[A-Za-z0-9_.:-]{1,128}$/.test(name) && name !== '.' && name !== '..' ? name : 'student', studentSpec, distill, seed: job.seed, ...(evaluation ? { evaluation } : {}) };
}

/** The quorum as a device count for a job of `devices` devices. */
export function quorumCount(quorum: number, devices: number): number {
  const n = quorum < 1 ? Math.ceil(quorum * devices) : quorum;
  return Math.max(1, Math.min(devices, n));
}
