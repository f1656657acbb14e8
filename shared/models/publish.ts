/**
 * A TF.js model directory as a model.publish body and back. The coordinator publishes; an agent rebuilds
 * the same artifacts (model.json and weights.bin, byte for byte) and loads them with stock TF.js. The
 * topology travels as the model.json text and each weight as a named float32 tensor in manifest order, so
 * the coordinator's signature covers every byte the agent will load.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelPublishBody, NamedTensor } from '../protocol/messages.js';
import { decodeTensor, encodeTensor, float32Tensor } from '../protocol/tensor.js';
import { MODEL_JSON, WEIGHTS_BIN } from './store.js';

/** An unsigned model.publish body. */
export type UnsignedModel = Omit<ModelPublishBody, 'signature'>;

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  [k: string]: unknown;
}

/** Reads a saved model directory (saveModel's layout: float32 weights in one weights.bin). */
export function readModelForPublish(dir: string, modelId: string, version: number): UnsignedModel {
  const jsonText = readFileSync(join(dir, MODEL_JSON));
  const modelJson = JSON.parse(jsonText.toString('utf8')) as ModelJson;
  const bin = readFileSync(join(dir, WEIGHTS_BIN));
  // Copy into an aligned buffer: Buffer's pool offset is not a multiple of 4.
  const all = new Float32Array(bin.byteLength / 4);
  new Uint8Array(all.buffer).set(bin);
  const tensors: NamedTensor[] = [];
  let offset = 0;
  for (const w of modelJson.weightsManifest.flatMap((g) => g.weights)) {
    if (w.dtype !== 'float32') throw new Error(`${dir}: weight ${w.name} is ${w.dtype}; only float32 models are published`);
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (offset + n > all.length) throw new Error(`${dir}: ${WEIGHTS_BIN} is shorter than its manifest`);
    tensors.push({ name: w.name, tensor: encodeTensor(float32Tensor(all.slice(offset, offset + n), [...w.shape])) });
    offset += n;
  }
  if (offset !== all.length) throw new Error(`${dir}: ${WEIGHTS_BIN} holds ${all.length} values, its manifest ${offset}`);
  return { modelId, version, topology: new Uint8Array(jsonText), tensors };
}

/** Rebuilds model.json and weights.bin from a (verified) publish body. */
export function artifactsFromPublish(body: UnsignedModel): { modelJson: ModelJson; weights: Uint8Array } {
  if (!body.topology) throw new Error(`model ${body.modelId} v${body.version} carries no topology`);
  const modelJson = JSON.parse(new TextDecoder().decode(body.topology)) as ModelJson;
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
  if (specs.length !== body.tensors.length) throw new Error(`model ${body.modelId} v${body.version}: ${body.tensors.length} tensors for ${specs.length} weights`);
  const parts = body.tensors.map((t, i) => {
    const d = decodeTensor(t.tensor);
    if (t.name !== specs[i].name || d.dtype !== 'float32' || d.shape.join() !== specs[i].shape.join())
      throw new Error(`model ${body.modelId} v${body.version}: tensor ${i} (${t.name} [${d.shape}]) does not match weight ${specs[i].name} [${specs[i].shape}]`);
    return d.data as Float32Array;
  });
  const weights = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    weights.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return { modelJson, weights };
}

/** Loads a published model into TF.js (after its signature was verified). */
export async function loadPublishedModel(body: UnsignedModel): Promise<tf.LayersModel> {
  const { modelJson, weights } = artifactsFromPublish(body);
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs, weightData: weights.buffer as ArrayBuffer }));
}
