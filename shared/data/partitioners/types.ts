/** The contract every partition scheme implements; the registry in ../partition.ts lists them. */
import type { Random } from '../../random.js';

/** Options for `partition()`; each scheme reads only the fields it documents and ignores the rest. */
export interface PartitionOptions {
  /** One of partitionSchemes(): 'iid' | 'dirichlet' | 'shards' | 'quantity'. */
  scheme: string;
  /** Number of devices (clients), an integer in [1, number of samples]. */
  devices: number;
  /** Seed for seededRandom; the same options and labels always give the same partition. */
  seed: number;
  /** Dirichlet concentration, finite and > 0 ('dirichlet': label skew, 'quantity': size skew). Smaller is more skewed. */
  alpha?: number;
  /** 'shards': shards per device (default 2, as in McMahan et al.'s pathological non-IID split). */
  shardsPerDevice?: number;
  /**
   * 'dirichlet' / 'quantity': every device gets at least this many samples (default
   * max(1, min(10, floor(n / (2 * devices))))). 'dirichlet' redraws until it holds; 'quantity' reserves them.
   */
  minSamples?: number;
  /** 'dirichlet': how many draws to try before giving up with a DataError (default 1000). */
  maxAttempts?: number;
}

/** What a scheme receives: checked labels, grouped by class, and the seeded random source. */
export interface PartitionInput {
  labels: ArrayLike<number>;
  numClasses: number;
  /** Sample indices of each class, ascending. */
  byClass: number[][];
  devices: number;
  rng: Random;
}

/** One partition scheme: a name, a one-line summary, option checks, and the assignment itself. */
export interface Partitioner {
  readonly name: string;
  readonly summary: string;
  /** Throws DataError('bad-argument') for options this scheme cannot honour with n samples. */
  validate(options: PartitionOptions, n: number): void;
  /** Each device's sample indices, in any order; every index must appear exactly once overall. */
  assign(input: PartitionInput, options: PartitionOptions): number[][];
}
