/**
 * Quantity skew: device sizes drawn from Dir(alpha), labels IID within each device (Li et al. 2022,
 * "Federated Learning on Non-IID Data Silos: An Experimental Study", NIID-Bench's 'iid-diff-quantity').
 * Models fleets where a few gateways see most of the traffic.
 *
 * NIID-Bench redraws until every party holds 10 samples. That works for 50,000 samples over 10 parties but
 * almost never for our small sets (Dir(0.5) over 20 devices on 1,797 digits failed 1,000 draws in a row),
 * so each device is instead given minSamples up front and only the remainder is shared by the draw.
 */
import { cutByProportions, defaultMinSamples, drawDirichlet, validateDirichletOptions } from './dirichlet-draw.js';
import type { Partitioner } from './types.js';

export const quantityPartitioner: Partitioner = {
  name: 'quantity',
  summary: 'quantity skew: device sizes drawn from Dir(alpha), labels IID',
  validate(options, n) {
    validateDirichletOptions('quantity', options, n);
  },
  assign({ labels, devices, rng }, options) {
    const n = labels.length;
    const minSamples = options.minSamples ?? defaultMinSamples(n, devices);
    const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    const floor = devices * minSamples;
    const extra = cutByProportions(order.slice(floor), drawDirichlet(rng, options.alpha as number, devices));
    return extra.map((piece, d) => [...order.slice(d * minSamples, (d + 1) * minSamples), ...piece]);
  },
};
