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
