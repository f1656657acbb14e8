/**
 * Query chunking: the chunk size follows the memory budget, and a chunked answer equals the unchunked one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../shared/compute/backend.js';
import { buildModel } from '../../../shared/models/build.js';
import { activationValuesPerSample, queryChunkSize } from '../../../edge-agent/agent/memory.js';
import { LocalTeacher } from '../../../edge-agent/teacher/local-teacher.js';

beforeAll(async () => {
  await initBackend(() => {});
});

describe('query memory budget', () => {
  it('counts activations per sample and sizes chunks to the budget', () => {
    const mlp = buildModel({ kind: 'mlp', hidden: [32] }, { inputShape: [8], numClasses: 4, seed: 1 });
    // Layers: input 8, dense 32, dense 4 (the builder may add an input layer and activations; each counts).
    expect(activationValuesPerSample(mlp)).toBeGreaterThanOrEqual(8 + 32 + 4);
    const cnn = buildModel({ kind: 'cnn', conv: [16, 32], dense: [64] }, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    const per = activationValuesPerSample(cnn);
    expect(per).toBeGreaterThan(28 * 28 * 16); // the first conv's output alone
    expect(queryChunkSize(cnn, 32)).toBe(Math.floor((32 * 2 ** 20) / (12 * per)));
    expect(queryChunkSize(cnn, 8)).toBeLessThan(queryChunkSize(cnn, 32));
    expect(queryChunkSize(cnn, 0.001)).toBe(1);
    expect(queryChunkSize(mlp, 65_536)).toBe(4096);
  });

  it('answers a batch in chunks exactly as in one piece', async () => {
    const model = buildModel({ kind: 'cnn', conv: [4], dense: [8], batchNorm: true }, { inputShape: [8, 8, 1], numClasses: 3, seed: 2 });
    const values = Float32Array.from({ length: 10 * 64 }, (_, i) => ((i * 37) % 101) / 101);
    const inputs = { shape: [10, 8, 8, 1], values };
    const whole = new LocalTeacher({ deviceId: 'a', model, labelHistogram: [1, 1, 1], maxChunk: 64 });
    const chunked = new LocalTeacher({ deviceId: 'a', model, labelHistogram: [1, 1, 1], maxChunk: 3 });
    const a = await whole.logits({ inputs });
    const b = await chunked.logits({ inputs });
    expect(b.logits.shape).toEqual([10, 3]);
    expect(Math.max(...Array.from(a.logits.values, (v, i) => Math.abs(v - b.logits.values[i])))).toBeLessThan(1e-5);
    const q = { inputs, targets: Int32Array.from({ length: 10 }, (_, i) => i % 3), weights: { ce: 1, bn: 0, adv: 0 } };
    const ga = await whole.gradient(q);
    const gb = await chunked.gradient(q);
    expect(Array.from(ga.inputGradient.values).some((v) => v !== 0)).toBe(true);
    const diff = Math.max(...Array.from(ga.inputGradient.values, (v, i) => Math.abs(v - gb.inputGradient.values[i])));
    expect(diff).toBeLessThan(1e-6);
  });
});
