/**
 * Pathological non-IID shards (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks
 * from Decentralized Data"): sort samples by label, cut them into devices * shardsPerDevice contiguous
 * shards, and give each device shardsPerDevice random shards, so most devices see only that many classes.
 */
import { DataError } from '../dataset.js';
import { requireInteger } from '../labels.js';
import type { Partitioner } from './types.js';

export const shardsPartitioner: Partitioner = {
  name: 'shards',
  summary: 'sort by label, cut into shards, shardsPerDevice random shards per device',
  validate(options, n) {
    const k = requireInteger(options.shardsPerDevice ?? 2, "partition 'shards': shardsPerDevice", 1);
    if (options.devices * k > n) {
      throw new DataError(
        'bad-argument',
        `partition 'shards': ${options.devices} devices x ${k} shards = ${options.devices * k} shards, more than the ${n} samples`,
      );
    }
  },
  assign({ byClass, devices, rng }, options) {
    const k = options.shardsPerDevice ?? 2;
    // Shuffle within each class first, so which samples of a class share a shard is random, not file order.
    const sorted = byClass.flatMap((group) => rng.shuffle(group.slice()));
    const shards = devices * k;
    // Shard sizes differ by at most one when n is not a multiple of the shard count, so no sample is dropped.
    const cut = (s: number) => Math.floor((s * sorted.length) / shards);
    const owner = rng.shuffle(Array.from({ length: shards }, (_, s) => s));
    return Array.from({ length: devices }, (_, d) =>
      owner.slice(d * k, (d + 1) * k).flatMap((s) => sorted.slice(cut(s), cut(s + 1))),
    );
  },
};
