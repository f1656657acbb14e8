/**
 * Models round-trip through the TF.js artifacts layout on disk, and a stock TF.js loader (the http
 * IOHandler, as a browser app would use) reads what we wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { AddressInfo } from 'node:net';
import { initBackend } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
import { loadModel, saveModel } from '../../shared/models/store.js';

const dir = mkdtempSync(join(tmpdir(), 'distillery-store-'));
let server: Server;

beforeAll(async () => {
  await initBackend(() => {});
});
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function predictions(model: tf.LayersModel, x: tf.Tensor): number[] {
  return Array.from((model.predict(x) as tf.Tensor).dataSync());
}

describe('model store', () => {
  const spec = { kind: 'cnn', conv: [4], dense: [8], batchNorm: true } as const;
  const x = () => tf.randomNormal([3, 8, 8, 1], 0, 1, 'float32', 9);

  it('saves model.json + weights.bin and loads an identical model', async () => {
    const model = buildModel(spec, { inputShape: [8, 8, 1], numClasses: 3, seed: 4 });
    await saveModel(model, join(dir, 'm1'));
    expect(readdirSync(join(dir, 'm1')).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'm1', 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);
    const loaded = await loadModel(join(dir, 'm1'));
    expect(predictions(loaded, x())).toEqual(predictions(model, x()));
  });

  it('is readable by the stock TF.js http loader', async () => {
    server = createServer((req, res) => {
      const file = join(dir, 'm1', (req.url ?? '/').slice(1));
      if (!existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const stock = await tf.loadLayersModel(`http://127.0.0.1:${port}/model.json`);
    const ours = await loadModel(join(dir, 'm1'));
    expect(predictions(stock, x())).toEqual(predictions(ours, x()));
  });

  it('gives clear errors for a missing model, corrupt JSON and truncated weights', async () => {
    await expect(loadModel(join(dir, 'nothing'))).rejects.toThrow(/no model at .*nothing\/model.json/);
    const model = buildModel(spec, { inputShape: [8, 8, 1], numClasses: 3 });
    await saveModel(model, join(dir, 'm2'));
    const weights = readFileSync(join(dir, 'm2', 'weights.bin'));
    writeFileSync(join(dir, 'm2', 'weights.bin'), weights.subarray(0, weights.length - 8));
    await expect(loadModel(join(dir, 'm2'))).rejects.toThrow(/weights manifest needs \d+ bytes but the weight files hold \d+/);
    writeFileSync(join(dir, 'm2', 'model.json'), '{"modelTopology": ');
    await expect(loadModel(join(dir, 'm2'))).rejects.toThrow(/model.json is not valid JSON/);
  });
});
