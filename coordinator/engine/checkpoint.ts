/**
 * Round checkpoints on disk: generator, student, both optimizers (with teacherHeads, the heads too) in one
 * tensor file per round, the replay buffer and the procedural pool in segment files that are rewritten only
 * where their rows changed (buffer-files.ts), and state.json naming them all. state.json is replaced
 * atomically after every file it names is fully written, so a kill at any moment leaves either the previous
 * checkpoint or the new one, never a mix.
 *
 * Earlier layouts still load: the buffer (and the pool) inside the round's tensor file, and the pool in one
 * file of its own (`poolFile`).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../shared/fs/atomic.js';
import { readTensorFile, writeTensorFile, type NamedArray, type TensorManifestEntry } from '../../shared/fs/tensor-file.js';
import type { DistillState, Distiller } from './distiller.js';
import { BufferFiles, readSegments, type SegmentFile } from './buffer-files.js';
import { DEFAULT_DISTILL } from './config.js';

export interface CheckpointStore {
  load(d: Distiller): Promise<DistillState | undefined>;
  save(d: Distiller, state: DistillState): Promise<void>;
}

interface Models {
  generator: tf.LayersModel;
  student: tf.LayersModel;
}

interface StateFile {
  version: 1;
  state: DistillState;
  /** The distillation setup that wrote it (absent in checkpoints written before it was recorded). */
  setup?: Distiller['setup'];
  tensorFile: string;
  manifest: TensorManifestEntry[];
  replay: { size: number; next: number };
  /** The procedural pool's fill (DistillConfig.procedural), when the run has one. */
  procedural?: { size: number; next: number };
  /** Earlier layout: the file holding the procedural pool and its manifest. */
  poolFile?: { tensorFile: string; manifest: TensorManifestEntry[] };
  /** The replay buffer's and the pool's segment files, in row order (absent: an earlier layout, above). */
  segments?: { replay: SegmentFile[]; procedural?: SegmentFile[] };
  optimizerNames: { generator: string[]; student: string[] };
}

function modelArrays(prefix: string, m: tf.LayersModel | tf.layers.Layer): NamedArray[] {
  return m.weights.map((w, i) => {
    const v = w.read();
    return { name: `${prefix}/${i}`, shape: v.shape, values: v.dataSync() as Float32Array };
  });
}

/**
 * Adam's bias-correction accumulators β^t. TF.js multiplies them by β every step but, in setWeights,
 * recomputes them as pow(β, t + 1), which differs in the last bits after a few dozen steps; a resumed run
 * then drifts from an uninterrupted one. Saving and restoring the running products keeps resume bit-exact.
 */
type AdamAccumulators = { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
const ACCUMULATORS = ['accBeta1', 'accBeta2'] as const;

async function optimizerArrays(prefix: string, o: tf.Optimizer): Promise<{ arrays: NamedArray[]; names: string[] }> {
  const weights = await o.getWeights();
  const arrays = weights.map((w, i) => ({ name: `${prefix}/${i}`, shape: w.tensor.shape, values: Float32Array.from(w.tensor.dataSync()) }));
  for (const k of ACCUMULATORS) {
    const v = (o as unknown as AdamAccumulators)[k];
    if (v) arrays.push({ name: `${prefix}/${k}`, shape: [], values: Float32Array.from(v.dataSync()) });
  }
  return { arrays, names: weights.map((w) => w.name) };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Names the settings in which two setups differ, `rounds` excepted: a finished or stopped run may be
 * extended by raising it. Any other difference means the checkpoint belongs to another experiment.
 */
export function setupDifferences(saved: Distiller['setup'], current: Distiller['setup']): string[] {
  const diff: string[] = saved.seed === current.seed ? [] : ['seed'];
  const keys = new Set([...Object.keys(saved.config), ...Object.keys(current.config)]);
  for (const k of keys) {
    if (k === 'rounds') continue;
    // A setting added after the checkpoint was written, at its default, describes the same run.
    const fallback = (DEFAULT_DISTILL as unknown as Record<string, unknown>)[k];
    let savedValue = k in saved.config ? (saved.config as unknown as Record<string, unknown>)[k] : fallback;
    // The same inside a group of settings (e.g. relabel.adversarial), in the defaults' key order.
    if (isPlainObject(savedValue) && isPlainObject(fallback)) savedValue = { ...fallback, ...savedValue };
    const a = JSON.stringify(savedValue);
    const b = JSON.stringify((current.config as unknown as Record<string, unknown>)[k]);
    if (a !== b) diff.push(`distill.${k}`);
  }
  return diff;
}

export class DirectoryCheckpoints implements CheckpointStore {
  private readonly replayFiles: BufferFiles;
  private readonly poolFiles: BufferFiles;

  constructor(
    readonly dir: string,
    private readonly models: Models,
  ) {
    this.replayFiles = new BufferFiles(dir, 'replay');
    this.poolFiles = new BufferFiles(dir, 'procedural');
  }

  private get statePath(): string {
    return join(this.dir, 'state.json');
  }

  async save(d: Distiller, state: DistillState): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const g = await optimizerArrays('opt-generator', d.generatorOptimizer);
    const s = await optimizerArrays('opt-student', d.studentOptimizer);
    const segments = { replay: this.replayFiles.save(d.replay, state.round), ...(d.procedural ? { procedural: this.poolFiles.save(d.procedural, state.round) } : {}) };
    const arrays = [
      ...modelArrays('generator', this.models.generator),
      ...modelArrays('student', this.models.student),
      ...(d.studentAverage?.arrays().map((a, i) => ({ name: `student-average/${i}`, ...a })) ?? []),
      ...(d.teacherHeads ? modelArrays('teacher-heads', d.teacherHeads.layer) : []),
      ...g.arrays,
      ...s.arrays,
    ];
    const tensorFile = `tensors-${String(state.round).padStart(5, '0')}.bin`;
    const manifest = writeTensorFile(join(this.dir, tensorFile), arrays);
    const pool = d.procedural ? { procedural: { size: d.procedural.length, next: d.procedural.writeIndex } } : {};
    const file: StateFile = { version: 1, state, setup: d.setup, tensorFile, manifest, replay: { size: d.replay.length, next: d.replay.writeIndex }, ...pool, segments, optimizerNames: { generator: g.names, student: s.names } };
    writeFileAtomic(this.statePath, JSON.stringify(file));
    const current = new Set([tensorFile, ...segments.replay.map((f) => f.tensorFile), ...(segments.procedural ?? []).map((f) => f.tensorFile)]);
    // Also what a kill left half written (writeFileAtomic's temp files beside them).
    const ours = (f: string) => f.startsWith('tensors-') || f.startsWith('procedural-') || f.startsWith('replay-');
    for (const f of readdirSync(this.dir)) if (ours(f) && !current.has(f)) rmSync(join(this.dir, f), { force: true });
  }

  async load(d: Distiller): Promise<DistillState | undefined> {
    if (!existsSync(this.statePath)) return undefined;
    const { file, take } = readCheckpoint(this.dir);
    const differences = file.setup ? setupDifferences(file.setup, d.setup) : [];
    if (differences.length) {
      throw new Error(
        `checkpoint ${this.dir} was written by a run with different settings (${differences.join(', ')}); ` +
          'resuming would mix two experiments: use another output folder, or delete this one to start over',
      );
    }
    const restoreModel = (prefix: string, m: tf.LayersModel) => {
      if (m.weights.length !== file.manifest.filter((e) => e.name.startsWith(`${prefix}/`)).length) {
        throw new Error(`checkpoint ${this.dir}: the ${prefix} has a different architecture than the one checkpointed`);
      }
      m.setWeights(m.weights.map((_, i) => {
        const a = take(`${prefix}/${i}`);
        return tf.tensor(a.values, a.shape);
      }));
    };
    restoreModel('generator', this.models.generator);
    restoreModel('student', this.models.student);
    const restoreOptimizer = async (prefix: string, names: string[], o: tf.Optimizer) => {
      if (!names.length) return;
      await o.setWeights(names.map((name, i) => {
        const a = take(`${prefix}/${i}`);
        return { name, tensor: tf.tensor(a.values, a.shape) };
      }));
      // After setWeights, which recomputed them: checkpoints written before this fix simply lack them.
      for (const k of ACCUMULATORS) {
        const saved = take.optional(`${prefix}/${k}`);
        const v = (o as unknown as AdamAccumulators)[k];
        if (saved && v) tf.tidy(() => v.assign(tf.scalar(saved.values[0])));
      }
    };
    d.studentAverage?.restore(this.models.student.weights.map((_, i) => take(`student-average/${i}`)));
    d.teacherHeads?.layer.setWeights(d.teacherHeads.layer.getWeights().map((_, i) => {
      const a = take(`teacher-heads/${i}`);
      return tf.tensor(a.values, a.shape);
    }));
    await restoreOptimizer('opt-generator', file.optimizerNames.generator, d.generatorOptimizer);
    await restoreOptimizer('opt-student', file.optimizerNames.student, d.studentOptimizer);
    d.replay.restore(replaySnapshot(file, take));
    if (file.segments) this.replayFiles.adopt(d.replay, file.segments.replay);
    if (d.procedural && file.procedural) {
      d.procedural.restore({ ...file.procedural, x: take('procedural/x').values, targets: take('procedural/targets').values, side: take.optional('procedural/side')?.values });
      if (file.segments?.procedural) this.poolFiles.adopt(d.procedural, file.segments.procedural);
    }
    return file.state;
  }
}

/** A checkpoint's state file alone (no arrays); throws naming a missing or unreadable one. */
function readStateFile(dir: string): StateFile {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) throw new Error(`no checkpoint in ${dir} (state.json is missing)`);
  try {
    return JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (e) {
    throw new Error(`checkpoint ${statePath} is unreadable (${(e as Error).message}); delete the folder to start over`);
  }
}

/** A checkpoint's state file and its arrays by name (`take` throws naming a missing one). */
function readCheckpoint(dir: string): { file: StateFile; take: Take } {
  const file = readStateFile(dir);
  const arrays = new Map(readTensorFile(join(dir, file.tensorFile), file.manifest).map((a) => [a.name, a]));
  if (file.poolFile) for (const a of readTensorFile(join(dir, file.poolFile.tensorFile), file.poolFile.manifest)) arrays.set(a.name, a);
  if (file.segments) {
    for (const a of readSegments(dir, 'replay', file.segments.replay, file.replay.size)) arrays.set(a.name, a);
    if (file.segments.procedural) for (const a of readSegments(dir, 'procedural', file.segments.procedural, file.procedural?.size ?? 0)) arrays.set(a.name, a);
  }
  const take = Object.assign(
    (name: string): NamedArray => {
      const a = arrays.get(name);
      if (!a) throw new Error(`checkpoint ${dir} lacks ${name}; it was written by a different model or configuration`);
      return a;
    },
    { optional: (name: string) => arrays.get(name) },
  );
  return { file, take };
}

type Take = ((name: string) => NamedArray) & { optional(name: string): NamedArray | undefined };

function replaySnapshot(file: StateFile, take: Take) {
  return { ...file.replay, x: take('replay/x').values, targets: take('replay/targets').values, side: take.optional('replay/side')?.values };
}

/** The setup (config and seed) that wrote a checkpoint, read from its state file without its arrays. */
export function readCheckpointSetup(dir: string): Distiller['setup'] | undefined {
  return readStateFile(dir).setup;
}

/** The procedural pool's images and soft labels, when the run has one (in its own file or, in older layouts, in the round's). */
function poolSnapshot(file: StateFile, take: Take): { size: number; x: Float32Array; targets: Float32Array } | undefined {
  const x = take.optional('procedural/x');
  const targets = take.optional('procedural/targets');
  return file.procedural && x && targets ? { size: file.procedural.size, x: x.values, targets: targets.values } : undefined;
}

/**
 * What a finished (or stopped) run's checkpoint holds for offline study: the student's and the generator's
 * weights in layer order, the replay buffer, the procedural pool (if any), the setup that wrote it.
 */
export function readCheckpointContents(dir: string): { setup?: Distiller['setup']; round: number; student: NamedArray[]; generator: NamedArray[]; replay: ReturnType<typeof replaySnapshot>; procedural?: ReturnType<typeof poolSnapshot> } {
  const { file, take } = readCheckpoint(dir);
  // Written in layer order.
  const weights = (prefix: string) => file.manifest.filter((e) => new RegExp(`^${prefix}/\\d+$`).test(e.name)).map((e) => take(e.name));
  return { setup: file.setup, round: file.state.round, student: weights('student'), generator: weights('generator'), replay: replaySnapshot(file, take), procedural: poolSnapshot(file, take) };
}
