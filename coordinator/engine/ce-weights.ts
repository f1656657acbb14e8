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
  const devices = histograms.length;
  const C = histograms[0]?.length ?? 0;
  const totals = new Array<number>(C).fill(0);
  for (const h of histograms) h.forEach((n, c) => (totals[c] += n));
  return histograms.map((h) =>
    Float32Array.from(targets, (y) => {
      const share = totals[y] > 0 ? h[y] / totals[y] : 1 / devices;
      return (1 - floor) * share + floor / devices;
    }),
  );
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
  const w = histograms.map(() => new Float64Array(C));
  for (let c = 0; c < C; c++) {
    const total = histograms.reduce((a, h) => a + h[c], 0);
    histograms.forEach((h, d) => (w[d][c] = total > 0 ? h[c] / total : 1 / D));
  }
  const q = new Float64Array(n * C);
  let ce = 0;
  for (let i = 0; i < n; i++) {
    const s = new Float64Array(C);
    logits.forEach((l, d) => {
      const row = l.subarray(i * C, (i + 1) * C);
      const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
      const logZ = max + Math.log(row.reduce((a, b) => a + Math.exp(b - max), 0));
      for (let c = 0; c < C; c++) s[c] += w[d][c] * (row[c] - logZ);
    });
    const max = s.reduce((a, b) => Math.max(a, b), -Infinity);
    let z = 0;
    for (let c = 0; c < C; c++) z += q[i * C + c] = Math.exp(s[c] - max);
    for (let c = 0; c < C; c++) q[i * C + c] /= z;
    ce -= Math.log(q[i * C + targets[i]]) / n;
  }
  const weights = w.map((wd) => Float32Array.from({ length: n * C }, (_, k) => wd[k % C] * ((k % C === targets[Math.floor(k / C)] ? 1 : 0) - q[k])));
  return { weights, ce };
}
