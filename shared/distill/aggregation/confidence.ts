/**
 * confidence: per sample, each device's probabilities are weighted by its confidence (its maximum
 * probability at temperature 1), so teachers that recognise a synthetic sample outvote those that are
 * guessing, as in the confidence-aware ensembles of multi-teacher KD (e.g. CA-MKD, Zhang et al. 2022).
 */
import { softmaxRows } from '../../math/softmax.js';
import { batchSize, type Aggregator } from './types.js';

export const confidenceWeighted: Aggregator = (input) => {
  const rows = batchSize(input);
  const C = input.numClasses;
  const out = new Float32Array(rows * C);
  const total = new Float32Array(rows);
  for (const l of input.logits) {
    const p1 = softmaxRows(l, C, 1);
    const pt = softmaxRows(l, C, input.tau);
    for (let r = 0; r < rows; r++) {
      let conf = 0;
      for (let c = 0; c < C; c++) conf = Math.max(conf, p1[r * C + c]);
      total[r] += conf;
      for (let c = 0; c < C; c++) out[r * C + c] += conf * pt[r * C + c];
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= total[Math.floor(i / C)];
  return out;
};
