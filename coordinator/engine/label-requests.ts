/**
 * Which classes each generator step asks the devices for. Pairs (i, i + n/2) share a label in every scheme,
 * since mode-seeking diversity compares them.
 */
import type { Random } from '../../shared/random.js';

/** Every class alike: n/2 labels cycling through the classes, shuffled, then repeated for the pairs. */
export function balancedLabels(n: number, C: number, rng: Random): Int32Array {
  const half = Math.ceil(n / 2);
  const first = rng.shuffle(Int32Array.from({ length: half }, (_, i) => i % C));
  return Int32Array.from({ length: n }, (_, i) => first[i % half]);
}

/**
 * Request shares that favour the classes the replay buffer lacks: share_c ∝ (count_c + 1)^(−power), where
 * count_c is the number of buffered samples whose soft label ranks c first. Power 0 is every class alike; 1
 * asks in inverse proportion to what the vote has delivered. The +1 keeps a class with no sample finite.
 */
export function scarcityShares(counts: ArrayLike<number>, power: number): Float64Array {
  const raw = Float64Array.from(counts, (k) => Math.pow(k + 1, -power));
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => r / total);
}

/**
 * n labels with the given class shares, drawn by systematic sampling (each class gets ⌊share · n/2⌋ or one more
 * of the n/2 distinct draws, so a batch follows the shares closely), shuffled, then repeated for the pairs.
 */
export function labelsByShares(n: number, shares: ArrayLike<number>, rng: Random): Int32Array {
  const half = Math.ceil(n / 2);
  const first = new Int32Array(half);
  const offset = rng.next();
  let c = 0;
  let cumulative = shares[0];
  for (let k = 0; k < half; k++) {
    const position = (k + offset) / half;
    while (position >= cumulative && c < shares.length - 1) cumulative += shares[++c];
    first[k] = c;
  }
  rng.shuffle(first);
  return Int32Array.from({ length: n }, (_, i) => first[i % half]);
}
