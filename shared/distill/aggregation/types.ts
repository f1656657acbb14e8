/** The contract of a soft-label aggregation strategy (multi-teacher distillation). */

export interface AggregationInput {
  /** One row-major [batch, numClasses] logits array per device, all for the same batch. */
  logits: Float32Array[];
  numClasses: number;
  /** Distillation temperature: the output is the target distribution at this temperature. */
  tau: number;
  /** Per-device label histograms from enrollment (needed by 'class-weighted'). */
  histograms?: number[][];
  /** Fraction trimmed from each end by 'trimmed-mean' (default 0.2). */
  trim?: number;
}

/** A pure function from device logits to the target probabilities, row-major [batch, numClasses]. */
export type Aggregator = (input: AggregationInput) => Float32Array;

export function batchSize(input: AggregationInput): number {
  if (input.logits.length === 0) throw new Error('aggregation needs at least one device reply');
  const n = input.logits[0].length;
  for (const l of input.logits) {
    if (l.length !== n) throw new Error(`aggregation: device replies differ in size (${l.length} vs ${n} values)`);
  }
  if (n % input.numClasses !== 0) throw new Error(`aggregation: ${n} values are not rows of ${input.numClasses} classes`);
  return n / input.numClasses;
}

/** The label histograms a histogram-weighted strategy needs: one of numClasses counts per replying device. */
export function requireHistograms(input: AggregationInput, strategy: string): number[][] {
  const C = input.numClasses;
  const D = input.logits.length;
  const h = input.histograms;
  if (!h || h.length !== D || h.some((row) => row.length !== C)) {
    throw new Error(`${strategy} aggregation needs one label histogram of ${C} classes per device (${D} devices)`);
  }
  return h;
}
