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
