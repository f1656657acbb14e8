/**
 * class-weighted: each device votes on class c in proportion to how many class-c samples it trained on.
 *
 * Votes are combined in log-probability space (logits are shift-invariant per device, log-probabilities
 * are not): log q_c = Σ_d w_dc log p_dc(tau), w_dc = n_dc / Σ_d' n_d'c, then renormalised. A device that
 * never saw class c has w_dc = 0, so its (uninformed, usually very negative) opinion of c is ignored. A class
 * no device has seen gets equal weights. Related to the label-aware weighting of FedDF/Fed-ET.
 */
import { logSoftmaxRows, softmaxRows } from '../../math/softmax.js';
import { batchSize, requireHistograms, type Aggregator } from './types.js';

/** w_dc = n_dc / Σ_d' n_d'c, row-major [device, class]; a class no device holds gets 1/D from each. */
export function classVoteWeights(histograms: readonly (readonly number[])[], numClasses: number): Float32Array {
  const D = histograms.length;
  const weights = new Float32Array(D * numClasses);
  for (let c = 0; c < numClasses; c++) {
    const total = histograms.reduce((a, row) => a + row[c], 0);
    for (let d = 0; d < D; d++) weights[d * numClasses + c] = total > 0 ? histograms[d][c] / total : 1 / D;
  }
  return weights;
}

export const classWeighted: Aggregator = (input) => {
  const rows = batchSize(input);
  const C = input.numClasses;
  const D = input.logits.length;
  const h = requireHistograms(input, 'class-weighted');
  const weights = classVoteWeights(h, C);
  const combined = new Float32Array(rows * C);
  input.logits.forEach((l, d) => {
    const lp = logSoftmaxRows(l, C, input.tau);
    for (let i = 0; i < lp.length; i++) combined[i] += weights[d * C + (i % C)] * lp[i];
  });
  return softmaxRows(combined, C, 1);
};
