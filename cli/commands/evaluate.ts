/** `distillery evaluate`: loads a saved TF.js model and evaluates it on a data set's test split. */
import type { Command } from '../command.js';
import { parseArgs, UsageError, type Flags } from '../args.js';
import { initBackend } from '../../shared/compute/backend.js';
import { loadDataset, DATASET_NAMES } from '../../shared/data/registry.js';
import { loadModel } from '../../shared/models/store.js';
import { evaluate, formatEvaluation } from '../../shared/train/evaluate.js';

const flags: Flags = {
  model: { type: 'string', description: 'model directory (or its model.json)' },
  dataset: { type: 'string', description: `data set: ${DATASET_NAMES.join(', ')}`, default: 'digits' },
  seed: { type: 'string', description: 'split seed used when the model was trained', default: '1' },
};

export const evaluateCommand: Command = {
  name: 'evaluate',
  usage: 'distillery evaluate --model <dir> [--dataset digits]',
  summary: 'evaluate a saved model: accuracy, per-class accuracy, calibration (ECE)',
  flags,
  async run(argv) {
    const p = parseArgs(argv, flags, 'evaluate');
    if (!p.flags.model) throw new UsageError('evaluate: --model <dir> is required');
    await initBackend(() => {});
    const { test } = loadDataset(p.flags.dataset as string, { splitSeed: Number(p.flags.seed) });
    const model = await loadModel(p.flags.model as string).catch((e: Error) => {
      throw new UsageError(`evaluate: cannot load ${p.flags.model}: ${e.message}`);
    });
    const actual = model.inputs[0].shape.slice(1);
    if (JSON.stringify(actual) !== JSON.stringify(test.sampleShape)) {
      throw new UsageError(`evaluate: the model expects samples of shape [${actual.join(', ')}] but ${p.flags.dataset} samples are [${test.sampleShape.join(', ')}]`);
    }
    console.log(formatEvaluation(evaluate(model, test), test.classNames));
    return 0;
  },
};
