/** `distillery train`: supervised training of a spec on a named data set, with evaluation and saving. */
import type { Command } from '../command.js';
import { numberFlag, parseArgs, UsageError, type Flags } from '../args.js';
import { initBackend } from '../../shared/compute/backend.js';
import { loadDataset, DATASET_NAMES } from '../../shared/data/registry.js';
import { stratifiedSplit } from '../../shared/data/split.js';
import { buildModel, modelSize } from '../../shared/models/build.js';
import { resolveSpec, MODEL_PRESETS } from '../../shared/models/presets.js';
import { saveModel } from '../../shared/models/store.js';
import { fit } from '../../shared/train/fit.js';
import { evaluate, formatEvaluation, type Evaluation } from '../../shared/train/evaluate.js';

export interface TrainRequest {
  dataset: string;
  spec: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  limit?: number;
  out?: string;
  /** Progress lines go here (stderr by default, so stdout holds only results). */
  log?: (line: string) => void;
}

/** Trains and evaluates; prints progress per epoch and the final evaluation. Shared with `demo`. */
export async function trainAndReport(r: TrainRequest): Promise<Evaluation> {
  const log = r.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const backend = await initBackend(() => {});
  const { train, test } = loadDataset(r.dataset, { limit: r.limit, splitSeed: r.seed });
  const { train: fitSet, test: valSet } = stratifiedSplit(train, { testFraction: 0.1, seed: r.seed });
  const model = buildModel(resolveSpec(r.spec), { inputShape: train.sampleShape, numClasses: train.numClasses, seed: r.seed });
  const size = modelSize(model);
  log(`training ${r.spec} (${size.params.toLocaleString()} parameters, ${(size.bytes / 1024).toFixed(0)} KiB) on ${r.dataset}: ` +
    `${fitSet.y.length} train / ${valSet.y.length} validation / ${test.y.length} test samples, backend ${backend}`);
  const result = await fit(model, fitSet, {
    epochs: r.epochs,
    batchSize: r.batchSize,
    learningRate: r.learningRate,
    seed: r.seed,
    validation: valSet,
    patience: 5,
    onEpoch: (e) => log(`  epoch ${String(e.epoch).padStart(3)}/${r.epochs}  loss ${e.loss.toFixed(4)}  val acc ${(e.valAccuracy! * 100).toFixed(2)}%  ${e.seconds.toFixed(1)} s`),
  });
  log(`trained in ${result.seconds.toFixed(1)} s; best epoch ${result.bestEpoch}${result.stoppedEarly ? ' (stopped early)' : ''}`);
  const evaluation = evaluate(model, test);
  console.log(formatEvaluation(evaluation, test.classNames));
  if (r.out) {
    await saveModel(model, r.out);
    console.log(`model saved to ${r.out} (model.json + weights.bin, loadable with tf.loadLayersModel)`);
  }
  model.dispose();
  return evaluation;
}

const flags: Flags = {
  dataset: { type: 'string', description: `data set: ${DATASET_NAMES.join(', ')}`, default: 'digits' },
  spec: { type: 'string', description: `model spec: a preset (${Object.keys(MODEL_PRESETS).join(', ')}), inline JSON or a JSON file`, default: 'mlp' },
  epochs: { type: 'string', description: 'maximum epochs (early stopping on a 10% validation slice)', default: '20' },
  'batch-size': { type: 'string', description: 'mini-batch size', default: '64' },
  lr: { type: 'string', description: 'Adam learning rate', default: '0.001' },
  seed: { type: 'string', description: 'seed for initialisation, shuffling and splits', default: '1' },
  limit: { type: 'string', description: 'use only the first N training samples' },
  out: { type: 'string', description: 'save the trained model to this directory (TF.js format)' },
};

export function requestFrom(argv: string[], command: string, f: Flags): TrainRequest {
  const p = parseArgs(argv, f, command);
  const int = (name: string, min: number) => {
    const v = numberFlag(p, name, command);
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UsageError(`${command}: --${name} must be an integer >= ${min}, got ${v}`);
    return v;
  };
  const lr = numberFlag(p, 'lr', command)!;
  if (!(lr > 0)) throw new UsageError(`${command}: --lr must be > 0, got ${lr}`);
  return {
    dataset: p.flags.dataset as string,
    spec: p.flags.spec as string,
    epochs: int('epochs', 1)!,
    batchSize: int('batch-size', 1)!,
    learningRate: lr,
    seed: int('seed', 0)!,
    limit: int('limit', 1),
    out: p.flags.out as string | undefined,
  };
}

export const trainCommand: Command = {
  name: 'train',
  usage: 'distillery train [--dataset digits] [--spec mlp] [--epochs 20] [--out dir]',
  summary: 'train a model from a spec on a data set, evaluate it on the test split, optionally save it',
  flags,
  async run(argv) {
    await trainAndReport(requestFrom(argv, 'train', flags));
    return 0;
  },
};
