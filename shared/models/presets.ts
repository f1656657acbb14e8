/**
 * Named model specs, and the resolver the CLI and config files use: a preset name, inline JSON, or a
 * path to a JSON file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SpecError } from './spec-error.js';

export const MODEL_PRESETS: Record<string, unknown> = {
  /** Tiny MLP for tabular data and quick runs. */
  'mlp-small': { kind: 'mlp', hidden: [64] },
  mlp: { kind: 'mlp', hidden: [256, 128] },
  /** The reference CNN of bench:compute (two 3x3 conv blocks, 421k parameters on 28x28 inputs). */
  cnn: { kind: 'cnn', conv: [32, 64], dense: [128], dropout: 0.3 },
  /** LeNet-5-sized CNN (about 44k parameters on 28x28 inputs). */
  lenet5: {
    kind: 'layers',
    layers: [
      { type: 'conv2d', filters: 6, kernelSize: 5, activation: 'relu' },
      { type: 'maxPool', poolSize: 2 },
      { type: 'conv2d', filters: 16, kernelSize: 5, padding: 'valid', activation: 'relu' },
      { type: 'maxPool', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 120, activation: 'relu' },
      { type: 'dense', units: 84, activation: 'relu' },
    ],
  },
};

/** Resolves a preset name, inline JSON (starts with '{') or a JSON file path into raw spec JSON. */
export function resolveSpec(text: string): unknown {
  if (Object.hasOwn(MODEL_PRESETS, text)) return MODEL_PRESETS[text];
  if (text.trim().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new SpecError('spec', `is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (existsSync(text)) {
    try {
      return JSON.parse(readFileSync(text, 'utf8'));
    } catch (e) {
      throw new SpecError(text, `is not valid JSON: ${(e as Error).message}`);
    }
  }
  throw new SpecError('spec', `${JSON.stringify(text)} is neither a preset (${Object.keys(MODEL_PRESETS).join(', ')}), inline JSON, nor a JSON file`);
}
