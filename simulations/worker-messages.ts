/** Messages between the scenario runner and its worker threads (devices, teacher training, baselines). */
import type { Dataset } from '../shared/data/dataset.js';
import type { FitOptions } from '../shared/train/fit.js';
import type { ClassBatchNormStats } from '../edge-agent/teacher/class-stats.js';
import type { Scenario } from './scenario.js';
import type { TrainedBaseline } from './baseline-cache.js';

export interface WorkerDevice {
  index: number;
  modelDir: string;
  histogram: number[];
  blackBox: boolean;
  /** The device's per-class BN statistics, when the recipe compares classes with them (bnClassMix 'class'). */
  classStats?: ClassBatchNormStats;
}

/** One device's teacher to train on its own partition and save to `dir` (the teacher cache). */
export interface TeacherTrainingJob {
  device: number;
  spec: unknown;
  data: Dataset;
  modelSeed: number;
  training: FitOptions;
  /** After training, re-estimate BN statistics on the job's (clean) samples. */
  recalibrateBn?: boolean;
  dir: string;
}

export type WorkerRequest =
  | { id: number; method: 'init'; devices: WorkerDevice[] }
  | { id: number; method: 'train'; job: TeacherTrainingJob }
  | { id: number; method: 'info' | 'logits' | 'gradient'; device: number; query?: unknown };

/** Sent by a thread while it trains a teacher, once per epoch, so a long training shows progress. */
export interface TrainingProgress {
  device: number;
  epoch: number;
  epochs: number;
  loss: number;
  seconds: number;
}

export type WorkerProgress = { progress: TrainingProgress };

export type WorkerResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** To the baseline thread: first its scenario and seed, then, each time it asks, the baseline to train next (null: none). */
export type BaselineRequest = { scenario: Scenario; seed: number } | { kind: TrainedBaseline | null };

/**
 * From the baseline thread: a log line, a request for the next baseline, one finished baseline, or an error
 * (with `kind`, that baseline's; without, the one that stopped the thread).
 */
export type BaselineWorkerMessage =
  | { log: string }
  | { next: true }
  | { kind: TrainedBaseline; accuracy: number | null }
  | { error: string; kind?: TrainedBaseline };
