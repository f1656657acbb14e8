/**
 * Label skew: for every class, draw device proportions from Dir(alpha) and deal that class's samples out
 * accordingly (Hsu et al. 2019, "Measuring the Effects of Non-Identical Data Distribution"; the exact
 * procedure follows the FedML `partition_data('hetero')` code that FedDF (Lin et al. 2020) and DENSE
 * (Zhang et al. 2022) use). Small alpha gives devices few classes; large alpha approaches IID.
 */
import { cutByProportions, defaultMinSamples, drawDirichlet, minSamplesError, validateDirichletOptions } from './dirichlet-draw.js';
import type { Partitioner } from './types.js';

export const dirichletPartitioner: Partitioner = {
  name: 'dirichlet',
  summary: 'label skew: per-class device shares drawn from Dir(alpha)',
  validate(options, n) {
    validateDirichletOptions('dirichlet', options, n);
  },
  assign({ labels, byClass, devices, rng }, options) {
    const alpha = options.alpha as number;
    const n = labels.length;
    const minSamples = options.minSamples ?? defaultMinSamples(n, devices);
    const maxAttempts = options.maxAttempts ?? 1000;
    // Which samples of a class go where is independent of the proportions, so shuffle once, redraw shares.
    const shuffled = byClass.map((group) => rng.shuffle(group.slice()));
    const fairShare = n / devices;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const buckets: number[][] = Array.from({ length: devices }, () => []);
      for (const group of shuffled) {
        if (group.length === 0) continue;
        const p = drawDirichlet(rng, alpha, devices);
        // FedML's balancing step: a device already at its fair share takes no more, so one device with a
        // large draw cannot soak up most of the dataset. Some device is always below it (the total is < n).
        let weights = p.map((w, d) => (buckets[d].length < fairShare ? w : 0));
        if (!(weights.reduce((a, b) => a + b, 0) > 0)) {
          // Every open device drew (numerically) zero: Dir's small-alpha limit is one-hot, so pick one.
          const open = buckets.flatMap((b, d) => (b.length < fairShare ? [d] : []));
          const hot = open[rng.int(open.length)];
          weights = p.map((_, d) => (d === hot ? 1 : 0));
        }
        cutByProportions(group, weights).forEach((piece, d) => buckets[d].push(...piece));
      }
      if (Math.min(...buckets.map((b) => b.length)) >= minSamples) return buckets;
    }
    throw minSamplesError('dirichlet', options, minSamples, maxAttempts);
  },
};
