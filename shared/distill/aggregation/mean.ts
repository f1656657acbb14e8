/**
 * Averaging strategies.
 * mean-logits: softmax(mean_d z_d / tau), the FedDF ensemble (Lin et al., NeurIPS 2020).
 * mean-probs: mean_d softmax(z_d / tau), the classic ensemble of Hinton et al. 2015.
 */
import { softmaxRows } from '../../math/softmax.js';
import { batchSize, type Aggregator } from './types.js';

export const meanLogits: Aggregator = (input) => {
  batchSize(input);
  const sum = new Float32Array(input.logits[0].length);
  for (const l of input.logits) for (let i = 0; i < sum.length; i++) sum[i] += l[i] / input.logits.length;
  return softmaxRows(sum, input.numClasses, input.tau);
};

export const meanProbs: Aggregator = (input) => {
  batchSize(input);
  const out = new Float32Array(input.logits[0].length);
  for (const l of input.logits) {
    const p = softmaxRows(l, input.numClasses, input.tau);
    for (let i = 0; i < out.length; i++) out[i] += p[i] / input.logits.length;
  }
  return out;
};
