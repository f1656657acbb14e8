/** `distillery partition`: shows how a data set would be split across a fleet (label histograms per device). */
import type { Command } from '../command.js';
import { numberFlag, parseArgs, type Flags } from '../args.js';
import { loadDataset, DATASET_NAMES } from '../../shared/data/registry.js';
import { partitionDataset, partitionSchemes } from '../../shared/data/partition.js';

const flags: Flags = {
  dataset: { type: 'string', description: `data set: ${DATASET_NAMES.join(', ')}`, default: 'digits' },
  scheme: { type: 'string', description: `partition scheme: ${partitionSchemes().join(', ')}`, default: 'dirichlet' },
  devices: { type: 'string', description: 'number of devices', default: '5' },
  alpha: { type: 'string', description: 'Dirichlet concentration (smaller = more skewed)', default: '0.5' },
  seed: { type: 'string', description: 'seed', default: '1' },
  json: { type: 'boolean', description: 'print JSON instead of a table' },
};

export const partitionCommand: Command = {
  name: 'partition',
  usage: 'distillery partition [--dataset digits] [--scheme dirichlet] [--devices 5] [--alpha 0.5]',
  summary: 'partition a data set across a simulated fleet and print each device\'s label histogram',
  flags,
  async run(argv) {
    const p = parseArgs(argv, flags, 'partition');
    const { train } = loadDataset(p.flags.dataset as string);
    const parts = partitionDataset(train, {
      scheme: p.flags.scheme as string,
      devices: numberFlag(p, 'devices', 'partition')!,
      alpha: numberFlag(p, 'alpha', 'partition'),
      seed: numberFlag(p, 'seed', 'partition')!,
    });
    if (p.flags.json) {
      console.log(JSON.stringify(parts.map((d, i) => ({ device: i, samples: d.indices.length, histogram: d.histogram }))));
      return 0;
    }
    const classes = train.classNames ?? Array.from({ length: train.numClasses }, (_, c) => String(c));
    console.log(`device  samples  ${classes.map((c) => c.slice(0, 7).padStart(7)).join(' ')}`);
    parts.forEach((d, i) => console.log(`${String(i).padStart(6)}  ${String(d.indices.length).padStart(7)}  ${d.histogram.map((h) => String(h).padStart(7)).join(' ')}`));
    return 0;
  },
};
