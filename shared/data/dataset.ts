/**
 * The in-memory form every loader returns: samples flattened row-major into one Float32Array, integer
 * labels, and the per-sample shape (e.g. [28, 28, 1] for images, [30] for tabular rows).
 */
export interface Dataset {
  /** Short id, e.g. 'fashion-mnist/train', 'digits', 'breast-cancer'. */
  name: string;
  /** Per-sample shape; the product is the number of features per sample. */
  sampleShape: number[];
  /** n * prod(sampleShape) values, sample-major. */
  x: Float32Array;
  /** n labels in [0, numClasses). */
  y: Int32Array;
  numClasses: number;
  classNames?: string[];
}

/** Number of samples in a dataset. */
export function sampleCount(d: Dataset): number {
  return d.y.length;
}

/** Features per sample (product of sampleShape). */
export function featureCount(d: Dataset): number {
  return d.sampleShape.reduce((a, b) => a * b, 1);
}

/** A new dataset holding the given samples, in the given order. */
export function subset(d: Dataset, indices: ArrayLike<number>, name = d.name): Dataset {
  const f = featureCount(d);
  const x = new Float32Array(indices.length * f);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i];
    x.set(d.x.subarray(src * f, (src + 1) * f), i * f);
    y[i] = d.y[src];
  }
  return { ...d, name, x, y };
}

/** Counts of each label, length numClasses. */
export function labelHistogram(y: ArrayLike<number>, numClasses: number): number[] {
  const h = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < y.length; i++) h[y[i]]++;
  return h;
}

/** Error raised by loaders and data utilities; `code` lets callers branch without parsing text. */
export class DataError extends Error {
  constructor(
    readonly code: 'missing-file' | 'corrupt-file' | 'bad-argument',
    message: string,
  ) {
    super(message);
    this.name = 'DataError';
  }
}
