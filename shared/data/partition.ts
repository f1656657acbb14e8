/**
 * Splits a dataset across a fleet of simulated devices. Schemes live one per file in partitioners/ and
 * are registered from the single list below; an unknown or duplicate name throws and lists the valid ones.
 *
 *   const parts = partitionDataset(train, { scheme: 'dirichlet', alpha: 0.5, devices: 20, seed: 1 });
 *   const deviceData = subset(train, parts[3].indices);
 */
import { seededRandom } from '../random.js';
import { DataError, labelHistogram, type Dataset } from './dataset.js';
import { checkLabels, indicesByClass, requireInteger, requireSeed } from './labels.js';
import { dirichletPartitioner } from './partitioners/dirichlet.js';
import { iidPartitioner } from './partitioners/iid.js';
import { quantityPartitioner } from './partitioners/quantity.js';
import { shardsPartitioner } from './partitioners/shards.js';
import type { PartitionOptions, Partitioner } from './partitioners/types.js';

export type { PartitionOptions, Partitioner } from './partitioners/types.js';

/** One device's share: its sample indices (ascending; shuffle before training) and label counts. */
export interface DevicePartition {
  indices: Int32Array;
  /** Samples per class on this device, length numClasses. */
  histogram: number[];
}

const SCHEMES: readonly Partitioner[] = [iidPartitioner, dirichletPartitioner, shardsPartitioner, quantityPartitioner];

const REGISTRY = new Map<string, Partitioner>();
for (const p of SCHEMES) {
  if (REGISTRY.has(p.name)) throw new Error(`partition scheme '${p.name}' is registered twice`);
  REGISTRY.set(p.name, p);
}

/** Names of the registered schemes, in registration order. */
export function partitionSchemes(): string[] {
  return [...REGISTRY.keys()];
}

/** The scheme called `name`; throws DataError('bad-argument') listing the valid names if there is none. */
export function getPartitioner(name: string): Partitioner {
  const p = REGISTRY.get(name);
  if (!p) {
    throw new DataError('bad-argument', `unknown partition scheme '${name}'; valid schemes: ${partitionSchemes().join(', ')}`);
  }
  return p;
}

/** Checks everything that does not depend on the draw; throws DataError('bad-argument') on the first problem. */
export function validatePartitionOptions(options: PartitionOptions, n: number): Partitioner {
  const scheme = getPartitioner(options.scheme);
  requireInteger(options.devices, 'partition: devices', 1);
  requireSeed(options.seed);
  if (options.devices > n) {
    throw new DataError('bad-argument', `partition: ${options.devices} devices but only ${n} samples; every device needs at least one`);
  }
  scheme.validate(options, n);
  return scheme;
}

/**
 * Partitions samples with these `labels` (integers in [0, numClasses)) across `options.devices` devices.
 * Every index lands on exactly one device; the same labels and options always give the same result.
 */
export function partition(labels: ArrayLike<number>, numClasses: number, options: PartitionOptions): DevicePartition[] {
  checkLabels(labels, numClasses);
  const scheme = validatePartitionOptions(options, labels.length);
  const rng = seededRandom(options.seed);
  const byClass = indicesByClass(labels, numClasses);
  const buckets = scheme.assign({ labels, numClasses, byClass, devices: options.devices, rng }, options);
  return buckets.map((bucket) => {
    const indices = Int32Array.from(bucket).sort();
    const histogram = labelHistogram(Array.from(indices, (i) => labels[i]), numClasses);
    return { indices, histogram };
  });
}

/** `partition` over a Dataset's labels. */
export function partitionDataset(d: Dataset, options: PartitionOptions): DevicePartition[] {
  return partition(d.y, d.numClasses, options);
}

/**
 * Label skew of a partition: the mean, over non-empty devices, of the total-variation distance between the
 * device's label distribution and the pooled one. 0 is perfectly IID; values near 1 mean disjoint labels.
 */
export function labelSkew(parts: DevicePartition[]): number {
  const numClasses = parts[0]?.histogram.length ?? 0;
  const pooled = new Array<number>(numClasses).fill(0);
  for (const p of parts) p.histogram.forEach((c, k) => (pooled[k] += c));
  const total = pooled.reduce((a, b) => a + b, 0);
  let sum = 0;
  let counted = 0;
  for (const p of parts) {
    const size = p.indices.length;
    if (size === 0) continue;
    sum += 0.5 * p.histogram.reduce((acc, c, k) => acc + Math.abs(c / size - pooled[k] / total), 0);
    counted++;
  }
  return counted === 0 ? 0 : sum / counted;
}
