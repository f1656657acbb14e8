/** The registry of soft-label aggregation strategies, filled from one explicit list. */
import type { Aggregator } from './types.js';
import { meanLogits, meanProbs } from './mean.js';
import { classWeighted } from './class-weighted.js';
import { confidenceWeighted } from './confidence.js';
import { median, trimmedMean } from './robust.js';

export type { Aggregator, AggregationInput } from './types.js';

const STRATEGIES: Record<string, Aggregator> = {
  'mean-logits': meanLogits,
  'mean-probs': meanProbs,
  'class-weighted': classWeighted,
  confidence: confidenceWeighted,
  'trimmed-mean': trimmedMean,
  median,
};

export const AGGREGATION_NAMES = Object.keys(STRATEGIES);

/** Looks up a strategy by name; unknown names throw with the list of valid ones. */
export function getAggregator(name: string): Aggregator {
  if (!Object.hasOwn(STRATEGIES, name)) throw new Error(`unknown aggregation strategy ${JSON.stringify(name)}; use one of ${AGGREGATION_NAMES.join(', ')}`);
  return STRATEGIES[name];
}
