/** Small statistics the bench scripts share: pure functions, tested in test/bench/stats.test.ts. */

/** Ranks of `v` from 0, tied values sharing the mean of the ranks they span (as Spearman's ρ needs). */
export function averageRanks(v: readonly number[]): number[] {
  const order = v.map((_, i) => i).sort((p, q) => v[p] - v[q]);
  const ranks = new Array<number>(v.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && v[order[end + 1]] === v[order[start]]) end++;
    for (let k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2;
    start = end + 1;
  }
  return ranks;
}

/** Spearman rank correlation of two equal-length lists: Pearson's correlation of their average ranks (NaN if either list is constant). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length < 2) throw new Error(`spearman needs two lists of the same length >= 2, got ${a.length} and ${b.length}`);
  const [ra, rb] = [averageRanks(a), averageRanks(b)];
  const m = (a.length - 1) / 2; // the mean rank, ties or not
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (ra[i] - m) * (rb[i] - m);
    da += (ra[i] - m) ** 2;
    db += (rb[i] - m) ** 2;
  }
  return num / Math.sqrt(da * db);
}

/** Mean over rows of KL(p ‖ q), each row `classes` probabilities; q is floored at 1e-12 where p is not 0. */
export function meanKl(p: Float32Array, q: Float32Array, classes: number): number {
  let total = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) total += p[i] * Math.log(p[i] / Math.max(q[i], 1e-12));
  return total / (p.length / classes);
}

/**
 * "mean ± sample std" of `xs` times `scale` to `digits` decimals ('n/a' for none): percentages by default,
 * ratios with scale 1 and 3 digits, so each number is rounded once.
 */
export function meanStd(xs: readonly number[], scale = 100, digits = 2): string {
  if (!xs.length) return 'n/a';
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${(mean * scale).toFixed(digits)} ± ${(std * scale).toFixed(digits)}`;
}

/** The upper median (the middle element of the sorted values; for an even count, the upper of the two middles). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}
