import { classVoteWeights, classWeighted } from '../../shared/distill/aggregation/class-weighted.js';

/**
 * How much each device's cross-entropy counts for each requested sample (the gradient query's sampleWeights).
 *
 * A device's weight for a sample of class y is its share of the fleet's examples of y, so a device that never
 * saw y has no say over how y is drawn. With `floor` f > 0 every device keeps a part of the say regardless:
 * (1 − f) · share + f / devices. The weights still sum to 1 over the devices for every sample.
 *
 * Why a floor: the class-weighted vote lets a device that never saw y vote on its own classes, and a teacher
 * that only knows bags calls most unfamiliar shapes "bag"; without CE weight it is never asked to stop.
 */
export function ceSampleWeights(histograms: readonly (readonly number[])[], targets: Int32Array, floor = 0): Float32Array[] {
  const C = histograms[0]?.length ?? 0;
  const w = ceClassWeights(histograms, floor);
  return histograms.map((_, d) => Float32Array.from(targets, (y) => w[d * C + y]));
}

/**
 * The rule above for every (device, class) pair, [devices × classes] row-major: (1 − f)·share_dc + f/D, where
 * the share is the device's weight in the class-weighted vote. Soft targets (label-mix.ts) weigh it by t_c.
 */
export function ceClassWeights(histograms: readonly (readonly number[])[], floor = 0): Float32Array {
  const devices = histograms.length;
  const shares = classVoteWeights(histograms, histograms[0]?.length ?? 0);
  return shares.map((share) => (1 - floor) * share + floor / devices);
}

/**
 * Each answering device's part of the gradient of the *ensemble's* cross-entropy on the requested labels
 * (generatorCe 'ensemble'), as per-class CE weights a_d (GradientQuery.classWeights), from its logits at x.
 *
 * The ensemble is the class-weighted vote at temperature 1: log q_i ∝ Σ_d w_dc log p_dic, w_dc = n_dc / Σ_d' n_d'c
 * (a class no device holds: 1/D). For L = −log q_iy the chain rule gives ∂L/∂l_dij = w_dj (q_ij − [j = y_i])
 * − p_dij Σ_c w_dc (q_ic − [c = y_i]), which is exactly the gradient of the device-side term
 * Σ_c a_dic (−log p_dic) with a_dic = w_dc ([c = y_i] − q_ic). So every device, including one that never saw
 * y_i, is told how to move x so that the whole vote says y_i: a bag-only teacher whose "bag" outvotes the
 * others is pushed off it. `histograms` and `logits` are those of the answering devices, in the same order.
 * Also returns the vote's CE itself, mean_i −log q_iy, for the round's log.
 */
export function ensembleCeWeights(histograms: readonly (readonly number[])[], logits: readonly Float32Array[], targets: Int32Array, numClasses: number): { weights: Float32Array[]; ce: number } {
  const D = histograms.length;
  const C = numClasses;
  const n = targets.length;
  if (logits.length !== D) throw new Error(`ensembleCeWeights: ${logits.length} logits for ${D} histograms`);
  const w = classVoteWeights(histograms, C);
  // The vote itself is the registry's class-weighted aggregate at temperature 1, with these same weights.
  const q = classWeighted({ logits: [...logits], numClasses: C, tau: 1, histograms: histograms.map((h) => [...h]) });
  let ce = 0;
  for (let i = 0; i < n; i++) ce -= Math.log(q[i * C + targets[i]]) / n;
  const weights = histograms.map((_, d) => Float32Array.from({ length: n * C }, (_, k) => w[d * C + (k % C)] * ((k % C === targets[Math.floor(k / C)] ? 1 : 0) - q[k])));
  return { weights, ce };
}
