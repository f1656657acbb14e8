/** Row-wise softmax and log-softmax over row-major [n, classes] arrays, at a temperature, numerically stable. */

export function softmaxRows(logits: ArrayLike<number>, classes: number, tau = 1): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length; r += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[r + c] / tau);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += out[r + c] = Math.exp(logits[r + c] / tau - max);
    for (let c = 0; c < classes; c++) out[r + c] /= sum;
  }
  return out;
}

export function logSoftmaxRows(logits: ArrayLike<number>, classes: number, tau = 1): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length; r += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[r + c] / tau);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[r + c] / tau - max);
    const logSum = max + Math.log(sum);
    for (let c = 0; c < classes; c++) out[r + c] = logits[r + c] / tau - logSum;
  }
  return out;
}

/**
 * Re-expresses distributions computed at temperature `from` at temperature `to`: softmax(z/from) becomes
 * softmax(z/to), i.e. p^(from/to) renormalised, since from·log p equals z up to a per-row constant. Exact for any
 * row that is a softmax of some logits (every aggregation strategy that works on logits).
 */
export function retemperRows(probs: ArrayLike<number>, classes: number, from: number, to: number): Float32Array {
  if (!(from > 0) || !(to > 0)) throw new Error(`temperatures must be positive, got ${from} and ${to}`);
  const logits = Float32Array.from(probs, (p) => from * Math.log(p));
  return softmaxRows(logits, classes, to);
}
