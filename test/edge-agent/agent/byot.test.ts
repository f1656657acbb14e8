/**
 * Bring your own teacher: a Keras-style TF.js classifier ending in softmax (a Dense with activation
 * 'softmax', or a separate Softmax layer), saved in the layout tensorflowjs_converter writes (model.json
 * plus sharded group1-shardNofM.bin files), is loaded as a logits model whose softmax is exactly the
 * original's output; the agent serves it; models that do not fit are refused with the shapes named; and
 * the stored teacher is reused on restart only while its source is unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../../shared/compute/backend.js';
import { loadDataset } from '../../../shared/data/registry.js';
import { subset, type Dataset } from '../../../shared/data/dataset.js';
import { softmaxRows } from '../../../shared/math/softmax.js';
import { parseAgentConfig, type TeacherSource } from '../../../edge-agent/agent/config.js';
import { Agent } from '../../../edge-agent/agent/agent.js';
import { loadOwnTeacher, prepareLocalTeacher, TeacherModelError } from '../../../edge-agent/agent/teacher-source.js';
import { writeJsonl } from './fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'distillery-agent-byot-'));
const format = { sampleShape: [8, 8, 1], numClasses: 10 };
let train: Dataset;
let test: Dataset;
let probe: tf.Tensor;
/** Dense(..., activation: 'softmax') at the end, saved in the converter's Keras layout (model_config). */
let denseSoftmax: tf.LayersModel;
/** A functional model ending in a separate Softmax layer. */
let softmaxLayer: tf.LayersModel;

afterAll(() => {
  probe?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * Saves `model` as tensorflowjs_converter does: model.json with the weights split over two shard files
 * named in one manifest group. `kerasLayout` wraps the topology as {keras_version, backend, model_config}.
 */
async function saveConverted(model: tf.LayersModel, dir: string, kerasLayout: boolean): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const bytes = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
      const cut = Math.floor(bytes.length / 2);
      writeFileSync(join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, cut));
      writeFileSync(join(dir, 'group1-shard2of2.bin'), bytes.subarray(cut));
      const topology = kerasLayout ? { keras_version: '2.15.0', backend: 'tensorflow', model_config: artifacts.modelTopology } : artifacts.modelTopology;
      const modelJson = {
        format: 'layers-model',
        generatedBy: 'keras v2.15.0',
        convertedBy: 'TensorFlow.js Converter v4.22.0',
        modelTopology: topology,
        weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** Trains a softmax classifier the Keras way (compile + fit on one-hot labels). */
async function trainKeras(model: tf.LayersModel, d: Dataset): Promise<void> {
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  const x = tf.tensor(d.x, [d.y.length, 8, 8, 1]);
  const y = tf.oneHot(tf.tensor1d(d.y, 'int32'), 10);
  await model.fit(x, y, { epochs: 8, batchSize: 64, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
}

const probs = (m: tf.LayersModel, x: tf.Tensor) => (m.predict(x) as tf.Tensor).dataSync() as Float32Array;

beforeAll(async () => {
  await initBackend(() => {});
  ({ train, test } = loadDataset('digits', { splitSeed: 1 }));
  denseSoftmax = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 32, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })],
  });
  await trainKeras(denseSoftmax, train);
  const input = tf.input({ shape: [8, 8, 1] });
  const hidden = tf.layers.dense({ units: 24, activation: 'tanh' }).apply(tf.layers.flatten().apply(input)) as tf.SymbolicTensor;
  const scores = tf.layers.dense({ units: 10 }).apply(hidden) as tf.SymbolicTensor;
  softmaxLayer = tf.model({ inputs: input, outputs: tf.layers.softmax().apply(scores) as tf.SymbolicTensor });
  await trainKeras(softmaxLayer, train);
  await saveConverted(denseSoftmax, join(tmp, 'dense-softmax'), true);
  await saveConverted(softmaxLayer, join(tmp, 'softmax-layer'), false);
  probe = tf.tensor(test.x.subarray(0, 100 * 64), [100, 8, 8, 1]);
  // The models learned something (else "consistent predictions" would be vacuous).
  for (const m of [denseSoftmax, softmaxLayer]) {
    const labels = (m.predict(tf.tensor(test.x, [test.y.length, 8, 8, 1])) as tf.Tensor).argMax(-1).dataSync();
    expect(labels.filter((l, i) => l === test.y[i]).length / test.y.length).toBeGreaterThan(0.8);
  }
}, 60_000);

describe('loadOwnTeacher', () => {
  for (const [name, dir, original] of [
    ['a Dense layer with softmax activation (converter layout, sharded weights)', 'dense-softmax', () => denseSoftmax],
    ['a separate Softmax layer (functional model)', 'softmax-layer', () => softmaxLayer],
  ] as const) {
    it(`strips ${name}: softmax(logits) is the original output`, async () => {
      const { model, strippedSoftmax } = await loadOwnTeacher(join(tmp, dir), format);
      expect(strippedSoftmax).toBe(true);
      const logits = probs(model, probe);
      const expected = probs(original(), probe);
      // Logits, not probabilities: rows do not sum to 1 and some are negative.
      expect(Math.abs(logits.subarray(0, 10).reduce((a, b) => a + b, 0) - 1)).toBeGreaterThan(1e-3);
      expect(logits.some((v) => v < 0)).toBe(true);
      const got = softmaxRows(logits, 10);
      let maxDiff = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
      expect(maxDiff).toBeLessThan(1e-5);
      model.dispose();
    });
  }

  it('accepts the path of model.json itself, and leaves a logits model as it is', async () => {
    const logitsModel = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 10 })] });
    await saveConverted(logitsModel, join(tmp, 'logits'), true);
    const { model, strippedSoftmax } = await loadOwnTeacher(join(tmp, 'logits', 'model.json'), format);
    expect(strippedSoftmax).toBe(false);
    expect(Array.from(probs(model, probe))).toEqual(Array.from(probs(logitsModel, probe)));
  });

  it('refuses a model whose input shape does not match data.sampleShape, naming both shapes', async () => {
    const flat = tf.sequential({ layers: [tf.layers.dense({ inputShape: [64], units: 10, activation: 'softmax' })] });
    await saveConverted(flat, join(tmp, 'flat-input'), true);
    const e = await loadOwnTeacher(join(tmp, 'flat-input'), format).catch((err) => err);
    expect(e).toBeInstanceOf(TeacherModelError);
    expect(e.message).toMatch(/the model takes inputs of shape \[64\], the agent's data\.sampleShape is \[8, 8, 1\]/);
  });

  it('refuses a model with the wrong number of classes, naming both shapes', async () => {
    const five = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 5, activation: 'softmax' })] });
    await saveConverted(five, join(tmp, 'five-classes'), false);
    const e = await loadOwnTeacher(join(tmp, 'five-classes'), format).catch((err) => err);
    expect(e).toBeInstanceOf(TeacherModelError);
    expect(e.message).toMatch(/the model outputs shape \[5\], the agent needs \[10\]/);
  });

  it('refuses a directory without model.json, and a missing weight shard', async () => {
    mkdirSync(join(tmp, 'empty'), { recursive: true });
    const e = await loadOwnTeacher(join(tmp, 'empty'), format).catch((err) => err);
    expect(e).toBeInstanceOf(TeacherModelError);
    expect(e.message).toMatch(/^teacher\.model: no model at .*empty\/model\.json/);
    await saveConverted(denseSoftmax, join(tmp, 'missing-shard'), true);
    rmSync(join(tmp, 'missing-shard', 'group1-shard2of2.bin'));
    const e2 = await loadOwnTeacher(join(tmp, 'missing-shard'), format).catch((err) => err);
    expect(e2).toBeInstanceOf(TeacherModelError);
    expect(e2.message).toMatch(/refers to missing weights file .*group1-shard2of2\.bin/);
  });
});

describe('the agent with its own teacher', () => {
  it('serves predictions consistent with the original model, and the same after a restart', async () => {
    const root = join(tmp, 'agent-byot');
    writeJsonl(join(root, 'samples', 'local.jsonl'), train, Array.from({ length: 300 }, (_, i) => i));
    const config = parseAgentConfig(
      {
        dataDir: './state',
        data: { dir: './samples', sampleShape: [8, 8, 1], numClasses: 10 },
        teacher: { model: '../dense-softmax' },
        http: { enabled: false },
        telemetryMs: 0,
      },
      root,
    );
    const expected = probs(denseSoftmax, probe);
    const check = (agent: Agent) => {
      const { predictions, model } = agent.predict(test.x.subarray(0, 100 * 64));
      expect(model.kind).toBe('teacher');
      expect(predictions).toHaveLength(100);
      predictions.forEach((p, i) => {
        const row = Array.from(expected.subarray(i * 10, i * 10 + 10));
        expect(p.label).toBe(row.indexOf(Math.max(...row)));
        p.probabilities.forEach((q, k) => expect(Math.abs(q - row[k])).toBeLessThan(2e-6));
      });
    };
    let agent = await Agent.start(config);
    try {
      check(agent);
      expect(agent.status()).toMatchObject({ samples: { total: 300 }, coordinator: { state: 'disabled' } });
    } finally {
      await agent.stop();
    }
    agent = await Agent.start(config);
    try {
      check(agent);
    } finally {
      await agent.stop();
    }
  }, 30_000);

  it('fails to start with a TeacherModelError when the model does not fit the data', async () => {
    const wrong = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    await saveConverted(wrong, join(tmp, 'three-classes'), true);
    const config = parseAgentConfig({ dataDir: './state-bad', data: { sampleShape: [8, 8, 1], numClasses: 10 }, teacher: { model: './three-classes' }, http: { enabled: false }, telemetryMs: 0 }, tmp);
    await expect(Agent.start(config)).rejects.toThrow(TeacherModelError);
    await expect(Agent.start(config)).rejects.toThrow(/outputs shape \[3\], the agent needs \[10\]/);
    // A folder without model.json: the same clear error at start as from loadOwnTeacher.
    mkdirSync(join(tmp, 'not-a-model'), { recursive: true });
    const none = parseAgentConfig({ dataDir: './state-none', data: { sampleShape: [8, 8, 1], numClasses: 10 }, teacher: { model: './not-a-model' }, http: { enabled: false }, telemetryMs: 0 }, tmp);
    const e = await Agent.start(none).catch((err) => err);
    expect(e).toBeInstanceOf(TeacherModelError);
    expect(e.message).toMatch(/^teacher\.model: no model at .*not-a-model\/model\.json/);
  });
});

describe('prepareLocalTeacher', () => {
  const log = () => {};
  const small = () => subset(train, Array.from({ length: 200 }, (_, i) => i));

  it('reuses the stored trained teacher on the next start and retrains when the spec changes', async () => {
    const dataDir = join(tmp, 'prepare-train');
    const source: TeacherSource = { kind: 'train', spec: { kind: 'mlp', hidden: [16] }, epochs: 1, batchSize: 64, learningRate: 0.01, seed: 1 };
    const first = await prepareLocalTeacher(source, format, dataDir, small(), log);
    expect(first.origin).toBe('trained');
    const second = await prepareLocalTeacher(source, format, dataDir, small(), log);
    expect(second.origin).toBe('stored');
    expect(second.dir).toBe(join(dataDir, 'teacher'));
    expect(Array.from(probs(second.model, probe))).toEqual(Array.from(probs(first.model, probe)));
    const changed = await prepareLocalTeacher({ ...source, spec: { kind: 'mlp', hidden: [12] } }, format, dataDir, small(), log);
    expect(changed.origin).toBe('trained');
    expect(changed.model.layers.map((l) => l.countParams())).not.toEqual(first.model.layers.map((l) => l.countParams()));
    expect((await prepareLocalTeacher({ ...source, spec: { kind: 'mlp', hidden: [12] }, epochs: 2 }, format, dataDir, small(), log)).origin).toBe('trained');
    expect((await prepareLocalTeacher({ ...source, spec: { kind: 'mlp', hidden: [12] }, epochs: 2 }, format, dataDir, small(), log)).origin).toBe('stored');
  });

  it('trains with augmentation and recalibrates BN statistics when asked, as a new teacher source', async () => {
    const dataDir = join(tmp, 'prepare-augment');
    const source: TeacherSource = { kind: 'train', spec: { kind: 'cnn', conv: [4], dense: [8], batchNorm: true }, epochs: 1, batchSize: 32, learningRate: 0.01, seed: 1 };
    const plain = await prepareLocalTeacher(source, format, dataDir, small(), log);
    const events: string[] = [];
    const tuned = await prepareLocalTeacher({ ...source, augment: { shift: 1, noise: 0.1 }, recalibrateBn: true }, format, dataDir, small(), (m, f) => events.push(`${m} ${JSON.stringify(f ?? {})}`));
    expect(tuned.origin).toBe('trained');
    expect(events).toContain('teacher BN statistics recalibrated {"layers":1}');
    expect(Array.from(probs(tuned.model, probe))).not.toEqual(Array.from(probs(plain.model, probe)));
  });

  it('reuses a stored own teacher, and reloads it when the model or only its weights change', async () => {
    const dataDir = join(tmp, 'prepare-own');
    const dir = join(tmp, 'own-changing');
    await saveConverted(denseSoftmax, dir, true);
    const source: TeacherSource = { kind: 'model', path: join(dir, 'model.json') };
    expect((await prepareLocalTeacher(source, format, dataDir, small(), log)).origin).toBe('loaded');
    const stored = await prepareLocalTeacher(source, format, dataDir, small(), log);
    expect(stored.origin).toBe('stored');
    // The stored teacher is the logits model (softmax stripped).
    expect(Math.max(...softmaxRows(probs(stored.model, probe), 10).map((v, i) => Math.abs(v - probs(denseSoftmax, probe)[i])))).toBeLessThan(1e-5);
    // The user retrains the same architecture and converts again: model.json is byte-identical, the shards are not.
    const before = readFileSync(join(dir, 'model.json'));
    const retrained = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 32, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })],
    });
    retrained.setWeights(denseSoftmax.getWeights().map((w) => w.mul(0.5)));
    await saveConverted(retrained, join(tmp, 'retrained'), true);
    for (const shard of ['group1-shard1of2.bin', 'group1-shard2of2.bin']) copyFileSync(join(tmp, 'retrained', shard), join(dir, shard));
    expect(readFileSync(join(dir, 'model.json')).equals(before)).toBe(true);
    const reloaded = await prepareLocalTeacher(source, format, dataDir, small(), log);
    expect(reloaded.origin).toBe('loaded');
    expect(Math.max(...softmaxRows(probs(reloaded.model, probe), 10).map((v, i) => Math.abs(v - probs(retrained, probe)[i])))).toBeLessThan(1e-5);
    // A different model altogether.
    const other = await prepareLocalTeacher({ kind: 'model', path: join(tmp, 'softmax-layer', 'model.json') }, format, dataDir, small(), log);
    expect(other.origin).toBe('loaded');
  });
});
