/**
 * Saves and loads models in the standard TF.js artifacts layout: model.json (topology + weights manifest)
 * beside weights.bin, so a stock TF.js app can `tf.loadLayersModel` them. Writes are atomic (temp file,
 * fsync, rename) so a crash never leaves a half-written model where a good one was.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** An IOHandler that writes a model directory on the local disk. */
export function directorySaver(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      mkdirSync(dir, { recursive: true });
      const weightData = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      // Weights first: a model.json is only ever visible next to the weights it describes.
      writeFileAtomic(join(dir, WEIGHTS_BIN), new Uint8Array(weightData));
      writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData }) };
    },
  };
}

/** An IOHandler that reads a model directory (or a path to its model.json) from the local disk. */
export function directoryLoader(path: string): tf.io.IOHandler {
  const jsonPath = path.endsWith('.json') ? path : join(path, MODEL_JSON);
  const dir = jsonPath.slice(0, jsonPath.length - jsonPath.split('/').pop()!.length);
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!existsSync(jsonPath)) throw new Error(`no model at ${jsonPath}`);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(readFileSync(jsonPath, 'utf8'));
      } catch (e) {
        throw new Error(`${jsonPath} is not valid JSON: ${(e as Error).message}`);
      }
      if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
        throw new Error(`${jsonPath} is not a TF.js model.json (modelTopology and weightsManifest are required)`);
      }
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of modelJson.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) {
          const file = join(dir, p);
          if (!existsSync(file)) throw new Error(`${jsonPath} refers to missing weights file ${file}`);
          buffers.push(readFileSync(file));
        }
      }
      const total = buffers.reduce((a, b) => a + b.byteLength, 0);
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(b, offset);
        offset += b.byteLength;
      }
      const expected = weightSpecs.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * (w.dtype === 'int32' || w.dtype === 'float32' ? 4 : 1), 0);
      if (!weightSpecs.some((w) => w.quantization) && expected !== total) {
        throw new Error(`${jsonPath}: weights manifest needs ${expected} bytes but the weight files hold ${total}`);
      }
      return {
        modelTopology: modelJson.modelTopology,
        weightSpecs,
        weightData: weightData.buffer,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        userDefinedMetadata: modelJson.userDefinedMetadata,
      };
    },
  };
}

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(directorySaver(dir));
}

export async function loadModel(path: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(directoryLoader(path));
}
