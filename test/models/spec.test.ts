import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../shared/compute/backend.js';
import { buildModel, modelSize } from '../../shared/models/build.js';
import { parseModelSpec, SpecError } from '../../shared/models/spec.js';
import { MODEL_PRESETS, resolveSpec } from '../../shared/models/presets.js';

beforeAll(async () => {
  await initBackend(() => {});
});

function specError(raw: unknown): SpecError {
  try {
    parseModelSpec(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return e as SpecError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe('model specs', () => {
  it('builds an MLP with the hand-computed parameter count', () => {
    const model = buildModel({ kind: 'mlp', hidden: [256, 128] }, { inputShape: [28, 28, 1], numClasses: 10 });
    // 784*256+256 + 256*128+128 + 128*10+10
    expect(modelSize(model)).toEqual({ params: 235146, bytes: 235146 * 4 });
    expect(model.outputs[0].shape).toEqual([null, 10]);
  });

  it('builds the reference CNN with the hand-computed parameter count', () => {
    const model = buildModel({ kind: 'cnn', conv: [32, 64], dense: [128] }, { inputShape: [28, 28, 1], numClasses: 10 });
    // conv 3*3*1*32+32, conv 3*3*32*64+64, dense 7*7*64*128+128, logits 128*10+10
    expect(modelSize(model).params).toBe(320 + 18496 + 401536 + 1290);
  });

  it('builds every preset on 28x28 images and is deterministic for a seed', () => {
    for (const name of Object.keys(MODEL_PRESETS)) {
      const a = buildModel(resolveSpec(name), { inputShape: [28, 28, 1], numClasses: 10, seed: 3 });
      const b = buildModel(resolveSpec(name), { inputShape: [28, 28, 1], numClasses: 10, seed: 3 });
      const wa = a.getWeights()[0].dataSync();
      const wb = b.getWeights()[0].dataSync();
      expect(Array.from(wa)).toEqual(Array.from(wb));
    }
  });

  it('rejects an unknown layer kind and names it with the valid kinds', () => {
    const e = specError({ kind: 'layers', layers: [{ type: 'flatten' }, { type: 'lstm', units: 3 }] });
    expect(e.path).toBe('spec.layers[1].type');
    expect(e.message).toMatch(/unknown layer kind "lstm"; use one of dense, conv2d/);
  });

  it('rejects negative and fractional widths, naming the field', () => {
    expect(specError({ kind: 'mlp', hidden: [128, -3] }).message).toBe('spec.hidden[1]: must be a positive integer, got -3');
    expect(specError({ kind: 'cnn', conv: [1.5] }).path).toBe('spec.conv[0]');
    expect(specError({ kind: 'layers', layers: [{ type: 'dense', units: 0 }] }).path).toBe('spec.layers[0].units');
  });

  it('rejects unknown kinds, unknown fields and bad values', () => {
    expect(specError({ kind: 'transformer' }).message).toMatch(/unknown model kind "transformer"; use one of mlp, cnn, layers/);
    expect(specError({ kind: 'mlp', hidden: [8], widht: 3 }).path).toBe('spec.widht');
    expect(specError({ kind: 'mlp', hidden: [8], dropout: 1.5 }).path).toBe('spec.dropout');
    expect(specError('mlp').path).toBe('spec');
    expect(specError({ kind: 'layers', layers: [{ type: 'conv2d', filters: 4, padding: 'full' }] }).path).toBe('spec.layers[0].padding');
  });

  it('reports a spec that does not fit the input as a SpecError, not a TF.js crash', () => {
    const tooDeep = { kind: 'cnn', conv: [4, 4, 4, 4, 4] };
    expect(() => buildModel(tooDeep, { inputShape: [8, 8, 1], numClasses: 10 })).toThrow(SpecError);
  });

  it('resolves presets, inline JSON and rejects junk with the list of presets', () => {
    expect(resolveSpec('{"kind":"mlp","hidden":[4]}')).toEqual({ kind: 'mlp', hidden: [4] });
    expect(() => resolveSpec('{"kind":')).toThrow(/not valid JSON/);
    expect(() => resolveSpec('resnet152')).toThrow(/neither a preset \(mlp-small, mlp, cnn, lenet5\)/);
  });
});
