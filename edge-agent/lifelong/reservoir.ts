/**
 * A bounded replay memory filled by reservoir sampling (Vitter 1985, "Random Sampling with a Reservoir",
 * Algorithm R): after n samples have streamed past, every one of them is held with probability
 * capacity / n, whatever order they came in, and memory never exceeds `capacity` samples. This is the
 * memory Chaudhry et al. 2019 ("On Tiny Episodic Memories in Continual Learning") found hard to beat for
 * experience replay.
 */
import type { Random } from '../../shared/random.js';
import type { Dataset } from '../../shared/data/dataset.js';

export class ReservoirBuffer {
  /** capacity * features values; slots [0, size) are filled. */
  readonly x: Float32Array;
  readonly y: Int32Array;
  private filled = 0;
  private count = 0;

  /**
   * @param capacity  samples kept at most (0 keeps none)
   * @param features  values per sample
   * @param rng       seeded source deciding which samples stay
   */
  constructor(
    readonly capacity: number,
    readonly features: number,
    private readonly rng: Random,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new Error(`ReservoirBuffer: capacity must be an integer >= 0, got ${capacity}`);
    if (!Number.isInteger(features) || features < 1) throw new Error(`ReservoirBuffer: features must be a positive integer, got ${features}`);
    this.x = new Float32Array(capacity * features);
    this.y = new Int32Array(capacity);
  }

  /** Samples held now (<= capacity). */
  get size(): number {
    return this.filled;
  }

  /** Samples offered so far. */
  get seen(): number {
    return this.count;
  }

  /** Offers one sample; returns the slot it now occupies, or -1 if it was not kept. */
  add(sample: ArrayLike<number>, label: number): number {
    if (sample.length !== this.features) throw new Error(`ReservoirBuffer.add: sample has ${sample.length} values, expected ${this.features}`);
    if (!Number.isInteger(label) || label < 0) throw new Error(`ReservoirBuffer.add: label must be an integer >= 0, got ${label}`);
    const n = this.count++;
    // Fill first; afterwards the n-th sample (0-based) replaces a uniform slot with probability capacity / (n + 1).
    const slot = n < this.capacity ? n : this.rng.int(n + 1);
    if (slot >= this.capacity) return -1;
    this.x.set(sample, slot * this.features);
    this.y[slot] = label;
    this.filled = Math.min(this.capacity, this.filled + 1);
    return slot;
  }

  /** Offers every sample of a dataset, in order. */
  addAll(d: Dataset): void {
    for (let i = 0; i < d.y.length; i++) this.add(d.x.subarray(i * this.features, (i + 1) * this.features), d.y[i]);
  }

  /** A copy of the held samples as a dataset shaped like `like`. */
  toDataset(like: Pick<Dataset, 'sampleShape' | 'numClasses' | 'classNames'>, name = 'replay'): Dataset {
    return { ...like, name, x: this.x.slice(0, this.filled * this.features), y: this.y.slice(0, this.filled) };
  }
}
