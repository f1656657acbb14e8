/**
 * The engine worker thread: builds the student and generator for a job, resumes from the last checkpoint,
 * and runs the Distiller with TeacherPorts that forward each query to the main thread. After every round
 * it writes that round's student as a registry version (TF.js, int8, metrics, lineage) before the
 * checkpoint, so a checkpointed round always has its model on disk, then reports the round. See
 * engine-messages.ts for the conversation.
 */
import { parentPort } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../shared/compute/backend.js';
import { loadDataset } from '../shared/data/registry.js';
import { buildModel } from '../shared/models/build.js';
import { accuracyOf } from '../shared/train/fit.js';
import type { TeacherPort } from '../shared/distill/port.js';
import { zerothOrderPort } from '../shared/distill/zeroth-order.js';
import { generatorFor } from './engine/generator.js';
import { Distiller } from './engine/distiller.js';
import { DirectoryCheckpoints, type CheckpointStore } from './engine/checkpoint.js';
import { fromWireError, toWireError, type EngineStart, type FromEngine, type ToEngine } from './engine-messages.js';
import { writeSamples } from './samples.js';
import { writeVersion } from './model-registry.js';
import { int8Variant, versionLineage, versionMetrics } from './version-contents.js';

const port = parentPort!;
const post = (m: FromEngine) => port.postMessage(m);
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
const controller = new AbortController();
let nextId = 1;

/** Forwards one query to the main thread. Query arrays are copied, not transferred: the engine reuses them. */
function call(device: string, method: 'logits' | 'gradient', query: unknown): Promise<never> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    post({ type: 'call', id, device, method, query });
  });
}

/** The last checkpointed round (0 if none), read without loading the tensors. */
function checkpointedRound(dir: string): number {
  const file = join(dir, 'state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { state: { round: number } }).state.round : 0;
}

async function run(s: EngineStart): Promise<void> {
  await initBackend(() => {}, { threads: 'auto' });
  const { job } = s;
  const { inputShape, numClasses } = s.devices[0].info;
  const test = job.evaluation ? loadDataset(job.evaluation.dataset, { splitSeed: job.evaluation.splitSeed, limit: job.evaluation.limit }).test : undefined;
  if (test && JSON.stringify(test.sampleShape) !== JSON.stringify(inputShape))
    throw new Error(`evaluation data set ${job.evaluation!.dataset} has samples of shape [${test.sampleShape}], the devices' teachers take [${inputShape}]`);
  // Built exactly as the in-process runner builds them (simulations/run.ts), so the same seed means the same run.
  const student = buildModel(job.studentSpec, { inputShape, numClasses, seed: job.seed });
  const generator = generatorFor(job.distill, inputShape, numClasses, job.seed);
  const ports: TeacherPort[] = s.devices.map((d) => {
    const remote: TeacherPort = {
      deviceId: d.id,
      info: async () => d.info,
      logits: (q) => call(d.id, 'logits', q),
      gradient: (q) => call(d.id, 'gradient', q),
    };
    // A black-box device answers logits only: its input gradients are forward differences on seeded probes.
    return d.info.gradients ? remote : zerothOrderPort(remote, { ...job.distill.zerothOrder, seed: job.seed });
  });
  const directory = new DirectoryCheckpoints(s.checkpointDir, { generator, student });
  const evaluate = (m: tf.LayersModel) => (test ? accuracyOf(m, test) : undefined);
  let round = 0;
  const checkpoints: CheckpointStore = {
    load: (d) => directory.load(d),
    // The version first, then the checkpoint: a checkpointed round always has its complete version on disk.
    async save(d, state) {
      const report = state.history[state.history.length - 1];
      // A version holds the published student: its weight average when the job keeps one.
      const versionDir = await d.withPublishedStudent(async () => {
        const int8 = int8Variant(student, d, job.seed, test);
        return writeVersion(s.modelsDir, {
          modelId: s.modelId,
          version: report.round,
          student,
          int8: int8.bytes,
          metrics: versionMetrics(report, student, int8),
          lineage: versionLineage(s.modelId, job, report),
        });
      });
      const samplesPng = inputShape.length === 3 ? writeSamples(join(s.outDir, 'samples.png'), generator, numClasses, job.distill.zDim, inputShape, job.seed) : undefined;
      await directory.save(d, state);
      post({ type: 'round', report, modelId: s.modelId, version: report.round, versionDir, ...(samplesPng ? { samplesPng } : {}) });
    },
  };
  const distiller = new Distiller({
    ports,
    student,
    generator,
    config: job.distill,
    seed: job.seed,
    checkpoints,
    quorum: s.quorum,
    signal: controller.signal,
    onStep: (step, steps) => post({ type: 'step', round, step, steps }),
    onRound: (r) => {
      round = r.round + 1;
      return evaluate(student);
    },
  });
  const resumedFrom = checkpointedRound(s.checkpointDir);
  round = resumedFrom + 1;
  post({ type: 'ready', resumedFrom, sampleShape: inputShape });
  const state = await distiller.run(); // loads the checkpoint, if any, and goes on from there
  if (state.round < job.distill.rounds) post({ type: 'stopped', round: state.round });
  else post({ type: 'done', state, accuracy: evaluate(student) });
}

port.on('message', (m: ToEngine) => {
  if (m.type === 'start') run(m.start).catch((e) => post({ type: 'failed', error: toWireError(e) }));
  else if (m.type === 'stop') controller.abort();
  else {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(fromWireError(m.error));
  }
});
