/**
 * Messages between the coordinator's main thread (network, fleet, API) and its engine worker thread
 * (generator, student, checkpoints). Training blocks a thread for seconds at a time; keeping it off the
 * main thread keeps heartbeats, enrollment, deadlines and the API responsive. Device queries cross back to
 * the main thread, which owns the transports: the worker sees ordinary TeacherPorts.
 */
import type { TeacherInfo } from '../shared/distill/port.js';
import type { QuorumOptions } from './engine/quorum.js';
import type { DistillState, RoundReport } from './engine/distiller.js';
import type { JobSpec } from './job.js';

/** What the worker needs to run (or resume) a job. */
export interface EngineStart {
  job: JobSpec;
  /** The job's devices in a fixed order (sorted by id), with their capabilities. */
  devices: { id: string; info: TeacherInfo }[];
  quorum: QuorumOptions;
  checkpointDir: string;
  /** The model registry's root: each round's student becomes version <round> of `modelId`. */
  modelsDir: string;
  modelId: string;
  /** Where the worker writes the generator's latest samples (samples.png). */
  outDir: string;
}

/** A failure crossing the thread boundary (Error objects lose their class and code when cloned). */
export interface WireError {
  name: string;
  message: string;
  code?: string;
}

/** Main thread to worker. */
export type ToEngine =
  | { type: 'start'; start: EngineStart }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: WireError }
  /** Finish the round in progress, checkpoint it, and stop. */
  | { type: 'stop' };

/** Worker to main thread. */
export type FromEngine =
  | { type: 'call'; id: number; device: string; method: 'logits' | 'gradient'; query: unknown }
  | { type: 'ready'; resumedFrom: number; sampleShape: number[] }
  | { type: 'step'; round: number; step: number; steps: number }
  /** A round finished and was checkpointed; its student is registry version `version` (in `versionDir`). */
  | { type: 'round'; report: RoundReport; modelId: string; version: number; versionDir: string; samplesPng?: string }
  | { type: 'done'; state: DistillState; accuracy?: number }
  | { type: 'stopped'; round: number }
  | { type: 'failed'; error: WireError };

/** Reduces an error to what survives postMessage. */
export function toWireError(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
}

/** Rebuilds an Error from a {@link WireError}, keeping its name and code. */
export function fromWireError(w: WireError): Error {
  const e = new Error(w.message) as Error & { code?: string };
  e.name = w.name;
  if (w.code !== undefined) e.code = w.code;
  return e;
}
