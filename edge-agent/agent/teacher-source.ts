/**
 * The agent's local teacher: trained on local samples from a spec, or brought by the user as a TF.js layers
 * model (for example a Keras model converted with `tensorflowjs_converter --input_format keras`). Either
 * way it is stored under <dataDir>/teacher and reloaded on restart instead of retrained.
 *
 * Distillation needs logits. Keras classifiers usually end in softmax, so a softmax on the output layer is
 * replaced by the identity when the model is loaded: softmax(logits) is exactly what the model computed.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Dataset } from '../../shared/data/dataset.js';
import { buildModel } from '../../shared/models/build.js';
import { directoryLoader, loadModel, saveModel } from '../../shared/models/store.js';
import { writeFileAtomic } from '../../shared/fs/atomic.js';
import { fit } from '../../shared/train/fit.js';
import { recalibrateBatchNorm } from '../../shared/train/recalibrate.js';
import type { SampleFormat } from './samples.js';
import type { TeacherSource } from './config.js';

/** A user-supplied model the agent cannot use; the message says why. */
export class TeacherModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TeacherModelError';
  }
}

type LayerJson = { class_name: string; config: Record<string, unknown> };

/** Finds the output layer in a Keras topology (Sequential or functional), in model.json's two layouts. */
function outputLayer(topology: Record<string, unknown>): LayerJson | undefined {
  const model = (topology.model_config ?? topology) as { class_name?: string; config?: { layers?: LayerJson[]; output_layers?: unknown[][] } | LayerJson[] };
  const config = model.config;
  const layers = Array.isArray(config) ? config : config?.layers;
  if (!layers?.length) return undefined;
  const outputs = Array.isArray(config) ? undefined : config?.output_layers;
  if (outputs?.length) return layers.find((l) => (l.config as { name?: string }).name === outputs[0][0]);
  return layers[layers.length - 1];
}

/** Turns a final softmax into the identity, in place; returns whether it did. */
export function stripOutputSoftmax(topology: Record<string, unknown>): boolean {
  const last = outputLayer(topology);
  if (!last) return false;
  if (last.class_name === 'Softmax') {
    last.class_name = 'Activation';
    const name = last.config.name;
    last.config = { name, trainable: last.config.trainable ?? true, dtype: last.config.dtype ?? 'float32', activation: 'linear' };
    return true;
  }
  if (last.config.activation === 'softmax') {
    last.config.activation = 'linear';
    return true;
  }
  return false;
}

/** Checks that a teacher fits the agent's data: input shape and number of classes. */
export function checkTeacherFits(model: tf.LayersModel, format: SampleFormat, source: string): void {
  const input = model.inputs[0].shape.slice(1);
  const output = model.outputs[0].shape.slice(1);
  if (input.join() !== format.sampleShape.join())
    throw new TeacherModelError(`${source}: the model takes inputs of shape [${input.join(', ')}], the agent's data.sampleShape is [${format.sampleShape.join(', ')}]`);
  if (output.length !== 1 || output[0] !== format.numClasses)
    throw new TeacherModelError(`${source}: the model outputs shape [${output.join(', ')}], the agent needs [${format.numClasses}] (one score per class)`);
}

/** Loads a user-supplied TF.js layers model as a logits model. */
export async function loadOwnTeacher(path: string, format: SampleFormat): Promise<{ model: tf.LayersModel; strippedSoftmax: boolean }> {
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await directoryLoader(path).load!();
  } catch (e) {
    throw new TeacherModelError(`teacher.model: ${(e as Error).message}`);
  }
  const topology = artifacts.modelTopology as Record<string, unknown>;
  if (!topology || typeof topology !== 'object' || ArrayBuffer.isView(topology))
    throw new TeacherModelError(`teacher.model: ${path} is not a layers model (a graph model, from a SavedModel, cannot be trained or differentiated here; convert the Keras model with --output_format tfjs_layers_model)`);
  const strippedSoftmax = stripOutputSoftmax(topology);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new TeacherModelError(`teacher.model: ${path} could not be loaded by TF.js: ${(e as Error).message}`);
  }
  checkTeacherFits(model, format, `teacher.model ${path}`);
  return { model, strippedSoftmax };
}

/** What a stored teacher was made from; a different source means the stored one is stale. */
function sourceKey(source: TeacherSource, format: SampleFormat): string {
  const what = source.kind === 'model' ? { model: modelHash(source.path) } : { ...source };
  return createHash('sha256').update(JSON.stringify({ v: 1, what, format })).digest('hex').slice(0, 16);
}

/**
 * model.json and the weight files it names: a Keras model retrained and converted again has a
 * byte-identical model.json (same layers, same manifest) and different shards.
 */
function modelHash(jsonPath: string): string {
  const h = createHash('sha256');
  if (!existsSync(jsonPath)) return 'missing'; // loading it will say so, clearly
  const text = readFileSync(jsonPath);
  h.update(text);
  let manifest: unknown;
  try {
    manifest = JSON.parse(text.toString('utf8')).weightsManifest;
  } catch {
    return h.digest('hex');
  }
  for (const group of Array.isArray(manifest) ? manifest : []) {
    for (const p of Array.isArray(group?.paths) ? group.paths : []) {
      const file = join(dirname(jsonPath), String(p));
      h.update(`\0${p}\0`);
      if (existsSync(file)) h.update(readFileSync(file));
    }
  }
  return h.digest('hex');
}

/** True when <dataDir>/teacher holds a teacher made from `source` (nothing to train). */
export function storedTeacherIsCurrent(source: TeacherSource, format: SampleFormat, dataDir: string): boolean {
  const dir = join(dataDir, 'teacher');
  const keyFile = join(dir, 'source.json');
  if (!existsSync(join(dir, 'model.json')) || !existsSync(keyFile)) return false;
  try {
    return JSON.parse(readFileSync(keyFile, 'utf8')).key === sourceKey(source, format);
  } catch {
    return false;
  }
}

export interface PreparedTeacher {
  model: tf.LayersModel;
  /** 'stored' when reloaded from a previous start. */
  origin: 'trained' | 'loaded' | 'stored';
  /** Where it is stored. */
  dir: string;
}

/**
 * The teacher for this start: the stored one when it came from the same source, otherwise trained from
 * `train` (or loaded from the user's model) and stored.
 */
export async function prepareLocalTeacher(source: TeacherSource, format: SampleFormat, dataDir: string, train: Dataset, log: (msg: string, fields?: Record<string, unknown>) => void): Promise<PreparedTeacher> {
  const dir = join(dataDir, 'teacher');
  const keyFile = join(dir, 'source.json');
  const key = sourceKey(source, format);
  if (existsSync(join(dir, 'model.json')) && existsSync(keyFile) && JSON.parse(readFileSync(keyFile, 'utf8')).key === key) {
    const model = await loadModel(dir);
    checkTeacherFits(model, format, `stored teacher ${dir}`);
    return { model, origin: 'stored', dir };
  }
  let model: tf.LayersModel;
  let origin: PreparedTeacher['origin'];
  if (source.kind === 'model') {
    const own = await loadOwnTeacher(source.path, format);
    model = own.model;
    origin = 'loaded';
    log('teacher loaded', { path: source.path, params: model.countParams(), strippedSoftmax: own.strippedSoftmax });
  } else {
    if (train.y.length === 0) throw new TeacherModelError('teacher: no local samples to train on (data.dir is empty)');
    model = buildModel(source.spec, { inputShape: format.sampleShape, numClasses: format.numClasses, seed: source.seed });
    const t0 = performance.now();
    await fit(model, train, {
      epochs: source.epochs, batchSize: source.batchSize, learningRate: source.learningRate, seed: source.seed,
      ...(source.augment ? { augment: source.augment } : {}),
      onEpoch: (e) => log('teacher epoch', { epoch: e.epoch, loss: Number(e.loss.toFixed(4)), seconds: Number(e.seconds.toFixed(1)) }),
    });
    if (source.recalibrateBn) log('teacher BN statistics recalibrated', { layers: recalibrateBatchNorm(model, train) });
    origin = 'trained';
    log('teacher trained', { samples: train.y.length, params: model.countParams(), seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) });
  }
  await storeTeacher(model, dir);
  writeFileAtomic(keyFile, JSON.stringify({ key, source: source.kind }));
  return { model, origin, dir };
}

/** Saves the teacher (after training or a lifelong update) atomically. */
export async function storeTeacher(model: tf.LayersModel, dir: string): Promise<void> {
  await saveModel(model, dir);
}
