/**
 * Continual-learning metrics of Chaudhry et al. 2018 ("Riemannian Walk for Incremental Learning",
 * sec. 4) over an accuracy matrix acc[k][j]: accuracy on task j's test data after learning task k
 * (defined for j <= k; tasks are 0-based here).
 */

function check(acc: number[][], k: number): void {
  if (!Number.isInteger(k) || k < 0 || k >= acc.length) throw new Error(`task index ${k} is outside the ${acc.length} tasks learned`);
  if (acc[k].length < k + 1) throw new Error(`acc[${k}] has ${acc[k].length} entries; it needs one per task learned so far (${k + 1})`);
}

/** A_k = mean over j <= k of acc[k][j]; k defaults to the last task. */
export function averageAccuracy(acc: number[][], k = acc.length - 1): number {
  check(acc, k);
  let sum = 0;
  for (let j = 0; j <= k; j++) sum += acc[k][j];
  return sum / (k + 1);
}

/**
 * F_k = mean over j < k of (max over l in [j, k-1] of acc[l][j]) - acc[k][j]: how far each earlier task
 * fell from its best. 0 after the first task.
 */
export function forgetting(acc: number[][], k = acc.length - 1): number {
  check(acc, k);
  if (k === 0) return 0;
  let sum = 0;
  for (let j = 0; j < k; j++) {
    let best = -Infinity;
    for (let l = j; l < k; l++) best = Math.max(best, acc[l][j]);
    sum += best - acc[k][j];
  }
  return sum / k;
}
