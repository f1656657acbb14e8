import { describe, expect, it } from 'vitest';
import { DataError } from '../../shared/data/dataset.js';
import { getPartitioner, partition, type PartitionOptions } from '../../shared/data/partition.js';
import { thrown } from './tmp.js';

const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
const base = { devices: 2, seed: 1 };

/** The DataError message `partition` throws for these options, after checking it is a 'bad-argument'. */
function badArgument(options: PartitionOptions, y: number[] = labels, numClasses = 3): string {
  const e = thrown(() => partition(y, numClasses, options));
  expect(e).toBeInstanceOf(DataError);
  expect(e.code).toBe('bad-argument');
  return e.message;
}

describe('partition rejects bad arguments with a clear message', () => {
  it('an unknown scheme, listing the valid ones', () => {
    const message = "unknown partition scheme 'pathological'; valid schemes: iid, dirichlet, shards, quantity";
    expect(badArgument({ ...base, scheme: 'pathological' })).toBe(message);
    expect(() => getPartitioner('pathological')).toThrow(message);
  });

  it.each([0, -3, 1.5, NaN, Infinity])('devices = %s', (devices) => {
    expect(badArgument({ scheme: 'iid', seed: 1, devices })).toBe(`partition: devices must be an integer >= 1, got ${devices}`);
  });

  it('more devices than samples', () => {
    expect(badArgument({ scheme: 'iid', seed: 1, devices: 11 })).toBe('partition: 11 devices but only 10 samples; every device needs at least one');
  });

  it.each([1.5, NaN, '7' as unknown as number])('seed = %s', (seed) => {
    expect(badArgument({ scheme: 'iid', devices: 2, seed })).toBe(`seed must be an integer, got ${seed}`);
  });

  it.each(['dirichlet', 'quantity'])('%s: alpha <= 0, non-finite or missing', (scheme) => {
    for (const alpha of [0, -1, NaN, Infinity, undefined]) {
      expect(badArgument({ ...base, scheme, alpha })).toBe(`partition '${scheme}': alpha must be a finite number > 0, got ${alpha}`);
    }
  });

  it.each(['dirichlet', 'quantity'])('%s: impossible or malformed minSamples, bad maxAttempts', (scheme) => {
    expect(badArgument({ ...base, scheme, alpha: 1, minSamples: 6 })).toBe(
      `partition '${scheme}': minSamples 6 for each of 2 devices needs 12 samples, but there are 10`,
    );
    expect(badArgument({ ...base, scheme, alpha: 1, minSamples: -1 })).toBe(`partition '${scheme}': minSamples must be an integer >= 0, got -1`);
    expect(badArgument({ ...base, scheme, alpha: 1, minSamples: 2.5 })).toMatch(/minSamples must be an integer/);
    expect(badArgument({ ...base, scheme, alpha: 1, maxAttempts: 0 })).toBe(`partition '${scheme}': maxAttempts must be an integer >= 1, got 0`);
  });

  it('shards: bad shardsPerDevice, or more shards than samples', () => {
    expect(badArgument({ ...base, scheme: 'shards', shardsPerDevice: 0 })).toBe("partition 'shards': shardsPerDevice must be an integer >= 1, got 0");
    expect(badArgument({ ...base, scheme: 'shards', shardsPerDevice: 1.5 })).toMatch(/shardsPerDevice must be an integer/);
    expect(badArgument({ ...base, scheme: 'shards', shardsPerDevice: 6 })).toBe(
      "partition 'shards': 2 devices x 6 shards = 12 shards, more than the 10 samples",
    );
  });

  it('labels outside [0, numClasses) or a bad class count', () => {
    expect(badArgument({ ...base, scheme: 'iid' }, [0, 1, 3], 3)).toBe('labels[2] = 3 is not an integer class in 0..2');
    expect(badArgument({ ...base, scheme: 'iid' }, [0, -1], 3)).toBe('labels[1] = -1 is not an integer class in 0..2');
    expect(badArgument({ ...base, scheme: 'iid' }, [0, 1], 0)).toBe('numClasses must be an integer >= 1, got 0');
  });
});
