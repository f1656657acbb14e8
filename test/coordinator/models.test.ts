/**
 * The model registry: versions written whole (TF.js, int8, metrics, lineage) and recovered after a torn
 * write; publish bodies signed by the coordinator that an agent verifies and loads into the very same
 * model; any version fetchable over the protocol with model.fetch; path-like ids refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
import { artifactsFromPublish, loadPublishedModel } from '../../shared/models/publish.js';
import { verifyModel } from '../../shared/security/model-signature.js';
import { publicIdentity } from '../../shared/security/keys.js';
import { manualClock } from '../../shared/protocol/clock.js';
import { ModelRegistry, versionDir, writeVersion } from '../../coordinator/model-registry.js';
import { FleetStore } from '../../coordinator/store.js';
import { FleetManager } from '../../coordinator/fleet.js';
import { quietLogger } from '../../shared/log.js';
import { remoteFleet } from './helpers/remote-fleet.js';

const root = mkdtempSync(join(tmpdir(), 'distillery-models-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const spec = { kind: 'cnn', conv: [4], dense: [8] };
const model = (seed: number) => buildModel(spec, { inputShape: [8, 8, 1], numClasses: 10, seed });
const predict = (m: tf.LayersModel, x: tf.Tensor) => Array.from((m.predict(x) as tf.Tensor).dataSync());

describe('model registry', () => {
  it('writes versions whole and lists them with metrics, lineage and the int8 size', async () => {
    await initBackend(() => {});
    for (const v of [1, 2]) await writeVersion(root, { modelId: 'digits', version: v, student: model(v), int8: new Uint8Array(100 * v), metrics: { accuracy: v / 10 }, lineage: { parent: v - 1 || null } });
    const r = new ModelRegistry(root);
    expect(r.models()).toEqual(['digits']);
    expect(r.versions('digits').map((v) => [v.version, v.metrics.accuracy, v.lineage.parent, v.int8Bytes])).toEqual([[1, 0.1, null, 100], [2, 0.2, 1, 200]]);
    expect(r.get('digits')?.version).toBe(2);
    expect(r.get('digits', 7)).toBeUndefined();
    expect(r.get('nothing')).toBeUndefined();
    expect(readdirSync(join(root, 'digits'))).toEqual(['v00001', 'v00002']);
  });

  it('recovers from torn writes: leftovers removed, a replaced version that never landed put back', async () => {
    const dir = join(root, 'digits');
    mkdirSync(join(dir, '.v00003.tmp-1-2'), { recursive: true }); // killed while writing version 3
    renameSync(join(dir, 'v00002'), join(dir, '.v00002.old-1-2')); // killed between the two renames of a rewrite
    new ModelRegistry(root);
    expect(readdirSync(dir)).toEqual(['v00001', 'v00002']);
    await writeVersion(root, { modelId: 'digits', version: 2, student: model(22), metrics: { accuracy: 0.25 }, lineage: {} });
    expect(new ModelRegistry(root).get('digits', 2)?.metrics.accuracy).toBe(0.25);
    expect(readdirSync(dir)).toEqual(['v00001', 'v00002']);
  });

  it('signs publish bodies that an agent verifies and loads into the same model, byte for byte', async () => {
    const fleet = remoteFleet([]);
    const key = fleet.keys.coordinator;
    const r = new ModelRegistry(root, key);
    const body = r.publishBody('digits', 1)!;
    expect(verifyModel(body, publicIdentity(key).signPublicKey)).toBe(true);
    const dir = versionDir(root, 'digits', 1);
    const { weights } = artifactsFromPublish(body);
    expect(Buffer.from(weights).equals(readFileSync(join(dir, 'weights.bin')))).toBe(true);
    const x = tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 5);
    expect(predict(await loadPublishedModel(body), x)).toEqual(predict(model(1), x));
    const tampered = { ...body, tensors: body.tensors.map((t, i) => (i === 0 ? { ...t, tensor: { ...t.tensor, data: Uint8Array.from(t.tensor.data, (b, j) => (j === 0 ? b ^ 1 : b)) } } : t)) };
    expect(verifyModel(tampered, publicIdentity(key).signPublicKey)).toBe(false);
    await fleet.close();
  });

  it('answers model.fetch with any version, the latest by default, and unknown_model otherwise', async () => {
    const net = remoteFleet([async () => undefined]);
    const store = new FleetStore(':memory:');
    const models = new ModelRegistry(root, net.keys.coordinator);
    const fleet = new FleetManager({ store, transport: net.hub, fleet: 'f', clock: manualClock(), log: quietLogger, models });
    net.hub.handle(fleet.handle);
    const device = net.devices[0];
    const fetch = (version?: number) => device.request(net.keys.coordinator.id, { type: 'model.fetch', body: { modelId: 'digits', ...(version === undefined ? {} : { version }) } });
    expect(await fetch(1)).toMatchObject({ type: 'model.publish', body: { modelId: 'digits', version: 1 } });
    expect(await fetch()).toMatchObject({ type: 'model.publish', body: { version: 2 } });
    expect(await fetch(9)).toMatchObject({ type: 'error', body: { code: 'unknown_model', reason: 'no version 9 of model digits; known models: digits' } });
    fleet.close();
    store.close();
    await net.close();
  });

  it('refuses model ids that could leave the registry', () => {
    for (const id of ['..', '.', '../etc', 'a/b', '', 'x'.repeat(129)]) expect(() => versionDir(root, id, 1)).toThrow(/model id/);
    expect(() => versionDir(root, 'ok', -1)).toThrow(/integer >= 0/);
    expect(existsSync(join(root, '..', 'etc'))).toBe(false);
  });
});
