/**
 * aligned: each device is trusted only to compare classes it trained on.
 *
 * Under label skew a device that never saw class c still spends its probability mass somewhere when shown a c:
 * a teacher without ankle boots calls a boot a sneaker, confidently. 'class-weighted' ignores that device's
 * opinion of boots, but not of sneakers, where it is an expert: the vote on a boot ends up split between boot and
 * sneaker, because each device's log-probabilities are normalised over all classes, the unseen ones included.
 *
 * Here a device's logits (at tau) only fix *differences* between the classes it knows. The combined logits z
 * and one offset b_d per device solve the weighted least-squares problem
 *   min Σ_d Σ_c w_dc (z_c - l_dc/tau - b_d)²,   w_dc = n_dc / Σ_d' n_d'c   (as in 'class-weighted'),
 * so a boot expert that ranks boot far above sneaker, and a sneaker expert that never saw boots, agree on a
 * z with boot on top. With every device knowing every class the offsets play the role of the log-sum-exp and the
 * result is close to 'class-weighted'. The weights do not depend on the input, so the problem's matrix is solved
 * once per call and every row is one matrix-vector product. Pairwise coupling of partial classifiers in the spirit
 * of Hastie & Tibshirani (1998).
 */
import { softmaxRows } from '../../math/softmax.js';
import { classVoteWeights } from './class-weighted.js';
import { batchSize, requireHistograms, type Aggregator } from './types.js';

/**
 * The linear map from the devices' scaled logits to the combined logits: row-major [C, D·C], so that
 * z_c = Σ_{d,k} map[c, d·C + k] · l_dk/tau. The combined logits sum to zero (the problem fixes them up to a shift).
 */
export function alignedMap(weights: Float32Array, devices: number, classes: number): Float64Array {
  const C = classes;
  const D = devices;
  const n = C + D;
  // Normal equations A x = B l of the least squares, x = [z; b]; (Σ_c z_c)² is added to fix the shift, and a
  // tiny ridge on b keeps A invertible when some devices share no class with the rest (their offset is then 0).
  const A = new Float64Array(n * n);
  const B = new Float64Array(n * D * C);
  for (let d = 0; d < D; d++) {
    let rowSum = 0;
    for (let c = 0; c < C; c++) {
      const w = weights[d * C + c];
      rowSum += w;
      A[c * n + c] += w;
      A[c * n + C + d] -= w;
      A[(C + d) * n + c] -= w;
      B[c * D * C + d * C + c] += w;
      B[(C + d) * D * C + d * C + c] -= w;
    }
    A[(C + d) * n + C + d] += rowSum + 1e-9;
  }
  for (let c = 0; c < C; c++) for (let k = 0; k < C; k++) A[c * n + k] += 1;
  const solved = solve(A, B, n, D * C);
  return solved.slice(0, C * D * C);
}

/** Solves A X = B for X (A: n×n, B: n×m) by Gaussian elimination with partial pivoting; A and B are consumed. */
function solve(A: Float64Array, B: Float64Array, n: number, m: number): Float64Array {
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r * n + col]) > Math.abs(A[pivot * n + col])) pivot = r;
    if (Math.abs(A[pivot * n + col]) < 1e-12) throw new Error('aligned aggregation: the vote weights leave the problem singular');
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [A[col * n + k], A[pivot * n + k]] = [A[pivot * n + k], A[col * n + k]];
      for (let k = 0; k < m; k++) [B[col * m + k], B[pivot * m + k]] = [B[pivot * m + k], B[col * m + k]];
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = A[r * n + col] / A[col * n + col];
      if (f === 0) continue;
      for (let k = col; k < n; k++) A[r * n + k] -= f * A[col * n + k];
      for (let k = 0; k < m; k++) B[r * m + k] -= f * B[col * m + k];
    }
  }
  for (let r = 0; r < n; r++) {
    const p = A[r * n + r];
    for (let k = 0; k < m; k++) B[r * m + k] /= p;
  }
  return B;
}

export const aligned: Aggregator = (input) => {
  const rows = batchSize(input);
  const C = input.numClasses;
  const D = input.logits.length;
  const h = requireHistograms(input, 'aligned');
  const map = alignedMap(classVoteWeights(h, C), D, C);
  const combined = new Float32Array(rows * C);
  const scaled = new Float64Array(D * C);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < D; d++) for (let k = 0; k < C; k++) scaled[d * C + k] = input.logits[d][r * C + k] / input.tau;
    for (let c = 0; c < C; c++) {
      let z = 0;
      for (let j = 0; j < D * C; j++) z += map[c * D * C + j] * scaled[j];
      combined[r * C + c] = z;
    }
  }
  return softmaxRows(combined, C, 1);
};
