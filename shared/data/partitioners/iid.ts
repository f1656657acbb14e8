/** IID: a seeded shuffle cut into equal parts (sizes differ by at most one), the federated baseline. */
import type { Partitioner } from './types.js';

export const iidPartitioner: Partitioner = {
  name: 'iid',
  summary: 'uniformly random, equal-sized devices',
  validate() {},
  assign({ labels, devices, rng }) {
    const order = rng.shuffle(Array.from({ length: labels.length }, (_, i) => i));
    return Array.from({ length: devices }, (_, d) =>
      order.slice(Math.floor((d * order.length) / devices), Math.floor(((d + 1) * order.length) / devices)),
    );
  },
};
