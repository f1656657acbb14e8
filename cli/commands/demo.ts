/**
 * `distillery demo` (what `npm start` runs): trains the CNN preset on the shipped handwritten-digits data
 * and prints its test evaluation. Needs nothing but a fresh clone and `npm ci`.
 */
import type { Command } from '../command.js';
import { trainAndReport } from './train.js';
import { numberFlag, parseArgs, type Flags } from '../args.js';

const flags: Flags = {
  epochs: { type: 'string', description: 'maximum epochs', default: '40' },
  seed: { type: 'string', description: 'seed', default: '1' },
};

export const demoCommand: Command = {
  name: 'demo',
  usage: 'distillery demo [--epochs 40] [--seed 1]',
  summary: 'train and evaluate a small CNN on the shipped digits data (a one-minute check of an install)',
  flags,
  async run(argv) {
    const p = parseArgs(argv, flags, 'demo');
    console.log('Distillery demo: a small CNN trained on the UCI handwritten digits (1,797 8x8 images) shipped in data/.');
    const evaluation = await trainAndReport({
      epochs: numberFlag(p, 'epochs', 'demo')!,
      seed: numberFlag(p, 'seed', 'demo')!,
      dataset: 'digits',
      spec: JSON.stringify({ kind: 'cnn', conv: [16, 32], dense: [64], dropout: 0.2 }),
      batchSize: 32,
      learningRate: 0.002,
    });
    console.log(`demo result: test accuracy ${(evaluation.accuracy * 100).toFixed(2)}%`);
    return 0;
  },
};
