/** The registry of soft-label aggregation strategies, filled from one explicit list. */
import type { AggregationInput, Aggregator } from './types.js';
import { retemperRows } from '../../math/softmax.js';
import { meanLogits, meanProbs } from './mean.js';
import { classWeighted } from './class-weighted.js';
import { aligned } from './aligned.js';
import { confidenceWeighted } from './confidence.js';
import { median, trimmedMean } from './robust.js';

export type { Aggregator, AggregationInput } from './types.js';

const STRATEGIES: Record<string, Aggregator> = {
  'mean-logits': meanLogits,
  'mean-probs': meanProbs,
  'class-weighted': classWeighted,
  aligned,
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

/**
 * The student's targets at `input.tau`: the devices' votes combined by strategy `name` at `voteTau` (default:
 * at τ itself), then the combined distribution re-expressed at τ. Voting at another temperature matters for
 * strategies that combine log-probabilities with per-class weights ('class-weighted'), whose ranking of the
 * classes changes with the temperature; the targets then keep the ranking of the vote at `voteTau`.
 */
export function aggregateTargets(name: string, input: AggregationInput, voteTau = input.tau): Float32Array {
  const voted = getAggregator(name)({ ...input, tau: voteTau });
  return voteTau === input.tau ? voted : retemperRows(voted, input.numClasses, voteTau, input.tau);
}
