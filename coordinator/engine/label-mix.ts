/**
 * Two-class label mixtures for the conditional generator (`distill.labelMix`): a share of each query batch is
 * drawn for a soft target t = λ·e_a + (1 − λ)·e_b, λ in [0.5, 1), instead of a one-hot class, and every device's
 * CE term becomes the soft-target CE Σ_c a_dc·t_c·(−log p_c) (GradientQuery.classWeights). The generator then
 * learns to draw samples between two classes, where the ensemble is unsure: the decision boundaries (T-shirt
 * against shirt, pullover against coat on Fashion-MNIST) that one-hot requests, each drawn as its class's
 * most typical glyph, leave empty. The idea is the soft-targeted synthesis of data-free distillation
 * (e.g. Wang 2021, "Data-free knowledge distillation with soft targeted transfer set synthesis").
 */
import type { Random } from '../../shared/random.js';
import { ceClassWeights } from './ce-weights.js';

/**
 * Soft targets [n, C] for requested classes `targets`: each sample, with probability `share`, keeps λ of its
 * class (the majority, so `targets` stays its top class) and gives 1 − λ to another class drawn uniformly;
 * the rest stay one-hot. Draws from `rng` only for the samples it mixes and their partners.
 */
export function mixTargets(targets: Int32Array, numClasses: number, share: number, rng: Random): Float32Array {
  if (!(share >= 0 && share <= 1)) throw new Error(`labelMix: share must be in [0, 1], got ${share}`);
  if (numClasses < 2 && share > 0) throw new Error('labelMix: needs at least two classes');
  const C = numClasses;
  const soft = new Float32Array(targets.length * C);
  targets.forEach((y, i) => {
    if (share > 0 && rng.next() < share) {
      const lambda = 0.5 + 0.5 * rng.next();
      const other = (y + 1 + rng.int(C - 1)) % C;
      soft[i * C + y] = lambda;
      soft[i * C + other] = 1 - lambda;
    } else {
      soft[i * C + y] = 1;
    }
  });
  return soft;
}

/**
 * Each device's per-class CE weights for soft targets: a_dic = ((1 − f)·share_dc + f/D)·t_ic, the rule of
 * ceSampleWeights applied class by class, so a one-hot row gives exactly the sample weight ceSampleWeights
 * gives, and summed over devices every row's weights are the soft target itself.
 */
export function softTargetWeights(histograms: readonly (readonly number[])[], soft: Float32Array, floor = 0): Float32Array[] {
  const C = histograms[0]?.length ?? 0;
  if (C === 0 || soft.length % C !== 0) throw new Error(`softTargetWeights: ${soft.length} target values for ${C} classes`);
  const w = ceClassWeights(histograms, floor);
  return histograms.map((_, d) => Float32Array.from(soft, (t, k) => w[d * C + (k % C)] * t));
}
