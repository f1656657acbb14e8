/**
 * A bounded replay buffer of synthetic samples with their aggregated soft labels. Every sample a device has
 * already labelled is reused for many student steps instead of asking the devices again (the memory bank
 * of DFAD/CMI-style data-free KD). When full, the oldest entries are overwritten (a ring), since the
 * generator drifts and old samples describe older, usually worse, regions of input space.
 */
import type { Random } from '../../shared/random.js';

export interface ReplayBatch {
  x: Float32Array;
  targets: Float32Array;
  n: number;
  /** The rows' side targets, when the buffer keeps them (`sideWidth` > 0): each device's own answer. */
  side?: Float32Array;
}

export class ReplayBuffer {
  readonly x: Float32Array;
  readonly targets: Float32Array;
  /** Per-row side targets (`sideWidth` values a row; empty when 0): what teacherHeads learns from. */
  readonly side: Float32Array;
  private size = 0;
  private next = 0;
  /** Pushes and restores so far: the revision rows are stamped with. */
  private changes = 0;
  /** The revision at which each row was last written (push or restore): what checkpoints rewrite. */
  private readonly stamps: Uint32Array;

  constructor(
    readonly capacity: number,
    readonly features: number,
    readonly numClasses: number,
    readonly sideWidth = 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`replay buffer capacity must be a positive integer, got ${capacity}`);
    this.x = new Float32Array(capacity * features);
    this.targets = new Float32Array(capacity * numClasses);
    this.side = new Float32Array(capacity * sideWidth);
    this.stamps = new Uint32Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Where the next push writes (the ring's position). */
  get writeIndex(): number {
    return this.next;
  }

  /**
   * The latest revision at which any of rows [start, end) was written (0: never). A checkpoint that stored
   * those rows at that revision need not store them again.
   */
  lastChange(start: number, end: number): number {
    let latest = 0;
    for (let i = Math.max(0, start); i < Math.min(end, this.capacity); i++) if (this.stamps[i] > latest) latest = this.stamps[i];
    return latest;
  }

  /**
   * Adds a batch of samples ([n, features]) with their target distributions ([n, numClasses]) and, when the
   * buffer keeps side targets, those ([n, sideWidth]).
   */
  push(x: Float32Array, targets: Float32Array, side?: Float32Array): void {
    const n = targets.length / this.numClasses;
    if (x.length !== n * this.features) throw new Error(`replay: ${x.length} input values for ${n} targets of ${this.features} features`);
    const w = this.sideWidth;
    if ((side?.length ?? 0) !== n * w) throw new Error(`replay: ${side?.length ?? 0} side values for ${n} rows of ${w}`);
    this.changes++;
    for (let i = 0; i < n; i++) {
      this.x.set(x.subarray(i * this.features, (i + 1) * this.features), this.next * this.features);
      this.targets.set(targets.subarray(i * this.numClasses, (i + 1) * this.numClasses), this.next * this.numClasses);
      if (side) this.side.set(side.subarray(i * w, (i + 1) * w), this.next * w);
      this.stamps[this.next] = this.changes;
      this.next = (this.next + 1) % this.capacity;
      this.size = Math.min(this.capacity, this.size + 1);
    }
  }

  /** A uniformly drawn batch (with replacement across calls, without within a batch when possible). */
  sample(batch: number, rng: Random): ReplayBatch {
    return this.gather(batch, () => rng.int(this.size), Infinity);
  }

  /**
   * A sampler that draws sample i with probability ∝ count(label_i)^(−balance), where label_i is the class its
   * soft label ranks first and count the number of buffered samples that rank it first. `balance` 0 is the
   * uniform draw, 1 gives every class that occurs an equal share of each batch. The generator is asked for
   * balanced classes, but the ensemble's answers are not: on Fashion-MNIST a third of the samples end up
   * labelled "bag" and one in a hundred "sneaker", and a uniformly drawn student batch repeats that skew.
   * Built from the buffer's content at call time; build a new one after pushing.
   */
  classBalancedSampler(balance: number): (batch: number, rng: Random) => ReplayBatch {
    if (!(balance >= 0 && balance <= 1)) throw new Error(`replay: class balance must be in [0, 1], got ${balance}`);
    if (balance === 0 || this.size === 0) return (batch, rng) => this.sample(batch, rng);
    const weights = this.drawWeights(balance);
    const cumulative = new Float64Array(this.size);
    let total = 0;
    for (let i = 0; i < this.size; i++) cumulative[i] = total += weights[i];
    const draw = (rng: Random): number => {
      const u = rng.next() * total;
      let lo = 0;
      let hi = this.size - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    // A heavily weighted small class may hold fewer samples than a batch asks of it: a few retries, then a repeat.
    return (batch, rng) => this.gather(batch, () => draw(rng), 8);
  }

  /** Each buffered sample's unnormalised chance in a draw of classBalancedSampler(balance) (classDrawWeights). */
  drawWeights(balance: number): Float64Array {
    return classDrawWeights(this.stored(), this.numClasses, balance);
  }

  /** The expected soft label of one sample drawn by classBalancedSampler(balance) (meanDrawnTarget). */
  meanTarget(balance: number): Float64Array {
    return meanDrawnTarget(this.stored(), this.numClasses, balance);
  }

  /** Each buffered sample's top class (the class its soft label ranks first), and how many samples each class tops. */
  topLabels(): { label: Int32Array; counts: Float64Array } {
    return topLabelsOf(this.stored(), this.numClasses);
  }

  /** The soft labels of the samples held, row after row. */
  private stored(): Float32Array {
    return this.targets.subarray(0, this.size * this.numClasses);
  }

  /** Up to `batch` samples, each index from `draw`, redrawn up to `retries` times while it repeats one in the batch. */
  private gather(batch: number, draw: () => number, retries: number): ReplayBatch {
    const n = Math.min(batch, this.size);
    const x = new Float32Array(n * this.features);
    const targets = new Float32Array(n * this.numClasses);
    const w = this.sideWidth;
    const side = w ? new Float32Array(n * w) : undefined;
    const picked = new Set<number>();
    for (let i = 0; i < n; i++) {
      let j = draw();
      for (let tries = 0; picked.has(j) && picked.size < this.size && tries < retries; tries++) j = draw();
      picked.add(j);
      x.set(this.x.subarray(j * this.features, (j + 1) * this.features), i * this.features);
      targets.set(this.targets.subarray(j * this.numClasses, (j + 1) * this.numClasses), i * this.numClasses);
      side?.set(this.side.subarray(j * w, (j + 1) * w), i * w);
    }
    return side ? { x, targets, n, side } : { x, targets, n };
  }

  /** Plain-data snapshot for checkpoints. */
  snapshot(): { size: number; next: number; x: Float32Array; targets: Float32Array; side?: Float32Array } {
    const rows = { size: this.size, next: this.next, x: this.x.slice(0, this.size * this.features), targets: this.targets.slice(0, this.size * this.numClasses) };
    return this.sideWidth ? { ...rows, side: this.side.slice(0, this.size * this.sideWidth) } : rows;
  }

  restore(s: { size: number; next: number; x: Float32Array; targets: Float32Array; side?: Float32Array }): void {
    if (s.size > this.capacity) throw new Error(`replay snapshot holds ${s.size} samples, more than the capacity ${this.capacity}`);
    if (this.sideWidth && s.side?.length !== s.size * this.sideWidth) throw new Error(`replay snapshot holds no side targets for its ${s.size} samples (${s.side?.length ?? 0} values), and this buffer keeps ${this.sideWidth} a sample`);
    this.x.set(s.x);
    this.targets.set(s.targets);
    if (s.side && this.sideWidth) this.side.set(s.side);
    this.size = s.size;
    this.next = s.next;
    this.changes++;
    this.stamps.fill(this.changes);
  }
}

/** Each row's top class (the class its soft label ranks first), and how many rows each class tops. */
export function topLabelsOf(targets: Float32Array, numClasses: number): { label: Int32Array; counts: Float64Array } {
  const label = new Int32Array(targets.length / numClasses);
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < label.length; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (targets[i * numClasses + c] > targets[i * numClasses + best]) best = c;
    label[i] = best;
    counts[best]++;
  }
  return { label, counts };
}

/** Each row's unnormalised chance in a class-balanced draw: count(its top class)^(−balance) (0: all alike). */
export function classDrawWeights(targets: Float32Array, numClasses: number, balance: number): Float64Array {
  const { label, counts } = topLabelsOf(targets, numClasses);
  return Float64Array.from(label, (k) => Math.pow(counts[k], -balance));
}

/** The expected soft label of one row drawn class-balanced: the label skew a student's batches carry. */
export function meanDrawnTarget(targets: Float32Array, numClasses: number, balance: number): Float64Array {
  const weights = classDrawWeights(targets, numClasses, balance);
  const mean = new Float64Array(numClasses);
  let total = 0;
  weights.forEach((w, i) => {
    total += w;
    for (let c = 0; c < numClasses; c++) mean[c] += w * targets[i * numClasses + c];
  });
  return mean.map((v) => v / total);
}
