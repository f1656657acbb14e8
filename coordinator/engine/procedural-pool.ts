/**
 * The coordinator's side of the procedural pool (DistillConfig.procedural): the logits queries that have the
 * devices draw and label it, and student batches that take a share of their rows from it.
 */
import type { Random } from '../../shared/random.js';
import type { LogitsQuery } from '../../shared/distill/port.js';
import { MAX_PROCEDURAL_PER_QUERY, PLAIN_STYLE, styleInSpec, type ProceduralSpec, type ProceduralStyle } from '../../shared/distill/procedural.js';
import type { ReplayBatch } from './replay.js';
import { concatRows } from './relabel.js';

/**
 * The queries that label a pool of `pool` images, MAX_PROCEDURAL_PER_QUERY at most each: no inputs, a seed,
 * a count and the style's probabilities. The seeds come from the run's seed alone, so it is the same pool whichever round fills it.
 */
export function proceduralPoolQueries(runSeed: number, pool: number, sampleShape: readonly number[], style: ProceduralStyle = PLAIN_STYLE): (LogitsQuery & { procedural: ProceduralSpec })[] {
  const none = { shape: [0, ...sampleShape], values: new Float32Array(0) };
  // A style's probabilities travel only when set, so a plain pool's queries are what they always were.
  const styled = styleInSpec(style);
  const queries: (LogitsQuery & { procedural: ProceduralSpec })[] = [];
  for (let done = 0, k = 0; done < pool; done += MAX_PROCEDURAL_PER_QUERY, k++) {
    queries.push({ inputs: none, procedural: { seed: (runSeed * 48_271 + k * 99_991 + 1) >>> 0, count: Math.min(MAX_PROCEDURAL_PER_QUERY, pool - done), ...styled } });
  }
  return queries;
}

/** Draws `n` rows of a buffer: ReplayBuffer.sample or a classBalancedSampler. */
export type RowDraw = (n: number, rng: Random) => ReplayBatch;

/** A student batch of `size`: round(share · size) rows drawn by `drawPool` from the pool, the rest by `draw` from the replay buffer. */
export function withPoolShare(draw: RowDraw, drawPool: RowDraw, size: number, share: number, rng: Random): ReplayBatch {
  const k = Math.round(size * share);
  const fromPool = drawPool(k, rng);
  return k >= size ? fromPool : concatRows(fromPool, draw(size - k, rng));
}
