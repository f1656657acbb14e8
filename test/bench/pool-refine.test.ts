/** bench:replay's pool refinement: it lowers the fleet's loss on the images and keeps them valid images. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fleetLoss, refineImages, requestedClasses, type RefineSettings } from '../../bench/pool-refine.js';
import { ceSampleWeights } from '../../coordinator/engine/ce-weights.js';
import { tapBatchNorm } from '../../edge-agent/teacher/device-loss.js';
import { buildModel } from '../../shared/models/build.js';
import { seededRandom } from '../../shared/random.js';
import { argmaxRows } from '../../shared/metrics/index.js';

const SHAPE = [8, 8, 1];
const F = 64;
const C = 4;
const N = 24;

describe('refineImages', () => {
  let models: tf.LayersModel[];
  // Device 0 saw classes 0 and 1 only, device 1 every class: class 2 and 3 queries weigh on device 1 alone.
  const histograms = [[30, 10, 0, 0], [5, 5, 20, 20]];
  const rng = seededRandom(3);
  const x = Float32Array.from({ length: N * F }, () => rng.next());
  const settings: RefineSettings = { steps: 8, lr: 0.05, target: 'uniform', ce: 1, bn: 1, tv: 0.5 };

  beforeAll(async () => {
    await tf.setBackend('cpu');
    models = [1, 2].map((seed) => buildModel({ kind: 'cnn', conv: [4], dense: [8], batchNorm: true }, { inputShape: SHAPE, numClasses: C, seed }));
  });

  function lossAt(images: Float32Array, y: Int32Array): number {
    return tf.tidy(() => {
      const targets = tf.oneHot(tf.tensor1d(y, 'int32'), C);
      return fleetLoss(models.map(tapBatchNorm), ceSampleWeights(histograms, y).map((w) => tf.tensor1d(w)), tf.tensor(images, [N, ...SHAPE]), targets, settings).dataSync()[0];
    });
  }

  it('lowers the summed device loss and prior toward the requested classes, within [0, 1], leaving the input alone', () => {
    const before = Float32Array.from(x);
    const y = requestedClasses('uniform', N, C, seededRandom(9), () => { throw new Error("'uniform' needs no votes"); });
    const refined = refineImages({ models, histograms, sampleShape: SHAPE }, x, y, settings, N, () => {});
    expect(x).toEqual(before);
    expect(refined.length).toBe(x.length);
    expect(Math.min(...refined)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...refined)).toBeLessThanOrEqual(1);
    // 'uniform' draws image after image from the stream it is given.
    const draw = seededRandom(9);
    expect(y).toEqual(Int32Array.from({ length: N }, () => draw.int(C)));
    expect(lossAt(refined, y)).toBeLessThan(0.9 * lossAt(x, y));
  });

  it("'top' asks for each image's top class in the given votes, and one step changes the images", () => {
    const votes = new Float32Array(N * C);
    for (let i = 0; i < N; i++) votes[i * C + (i % C)] = 1;
    const y = requestedClasses('top', N, C, seededRandom(1), () => votes);
    expect(y).toEqual(argmaxRows(votes, C));
    const refined = refineImages({ models, histograms, sampleShape: SHAPE }, x, y, { ...settings, target: 'top', steps: 1 }, N, () => {});
    expect(refined).not.toEqual(x);
    expect(lossAt(refined, y)).toBeLessThan(lossAt(x, y));
  });
});
