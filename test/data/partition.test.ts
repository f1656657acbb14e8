import { describe, expect, it } from 'vitest';
import { labelHistogram } from '../../shared/data/dataset.js';
import { loadDigits } from '../../shared/data/digits.js';
import { labelSkew, partition, partitionDataset, partitionSchemes, type PartitionOptions } from '../../shared/data/partition.js';
import { cutByProportions } from '../../shared/data/partitioners/dirichlet-draw.js';

const digits = loadDigits();
const sizes = (parts: { indices: Int32Array }[]) => parts.map((p) => p.indices.length);
const meanSkew = (options: Omit<PartitionOptions, 'seed'>) =>
  [1, 2, 3].reduce((s, seed) => s + labelSkew(partitionDataset(digits, { ...options, seed })), 0) / 3;

const CASES: PartitionOptions[] = [
  { scheme: 'iid', devices: 7, seed: 1 },
  { scheme: 'dirichlet', devices: 20, seed: 1, alpha: 0.3 },
  { scheme: 'shards', devices: 10, seed: 1, shardsPerDevice: 2 },
  { scheme: 'quantity', devices: 20, seed: 1, alpha: 0.5 },
];

describe.each(CASES)('partition $scheme', (options) => {
  const parts = partitionDataset(digits, options);

  it('puts every sample on exactly one device, indices ascending', () => {
    expect(parts.length).toBe(options.devices);
    const seen = new Int32Array(digits.y.length);
    for (const p of parts) {
      p.indices.forEach((i) => seen[i]++);
      expect(Array.from(p.indices)).toEqual(Array.from(p.indices).sort((a, b) => a - b));
    }
    expect(seen.every((c) => c === 1)).toBe(true);
  });

  it("reports each device's label histogram", () => {
    for (const p of parts) expect(p.histogram).toEqual(labelHistogram(Array.from(p.indices, (i) => digits.y[i]), 10));
  });

  it('is reproducible from the seed and changes with it', () => {
    expect(partitionDataset(digits, options)).toEqual(parts);
    expect(partitionDataset(digits, { ...options, seed: 2 })).not.toEqual(parts);
  });

  it('gives every device at least one sample', () => {
    expect(Math.min(...sizes(parts))).toBeGreaterThan(0);
  });
});

describe('scheme behaviour', () => {
  it('iid: equal sizes (within one) and little label skew', () => {
    const parts = partitionDataset(digits, { scheme: 'iid', devices: 7, seed: 1 });
    expect(sizes(parts)).toEqual([256, 257, 257, 256, 257, 257, 257]);
    expect(labelSkew(parts)).toBeLessThan(0.1);
  });

  it('dirichlet: label skew grows as alpha shrinks', () => {
    const skews = [100, 10, 1, 0.1].map((alpha) => meanSkew({ scheme: 'dirichlet', devices: 20, alpha }));
    for (let i = 1; i < skews.length; i++) expect(skews[i]).toBeGreaterThan(skews[i - 1] + 0.05);
    expect(skews[0]).toBeLessThan(0.1);
    expect(skews[3]).toBeGreaterThan(0.6);
  });

  it('dirichlet: honours minSamples, and says so when it cannot', () => {
    const parts = partitionDataset(digits, { scheme: 'dirichlet', devices: 10, seed: 4, alpha: 0.1, minSamples: 40 });
    expect(Math.min(...sizes(parts))).toBeGreaterThanOrEqual(40);
    // With alpha this small each class lands on about one device, so 10 classes cannot fill 20 devices.
    expect(() => partitionDataset(digits, { scheme: 'dirichlet', devices: 20, seed: 1, alpha: 0.001, maxAttempts: 50 })).toThrow(
      "partition 'dirichlet': no draw in 50 attempts gave all 20 devices at least 10 samples (alpha 0.001)",
    );
  });

  it('shards: each device sees few classes and sizes differ by at most shardsPerDevice', () => {
    const parts = partitionDataset(digits, { scheme: 'shards', devices: 10, seed: 1, shardsPerDevice: 2 });
    // 20 shards of ~90 samples each span at most two of the ~180-sample classes.
    for (const p of parts) expect(p.histogram.filter((c) => c > 0).length).toBeLessThanOrEqual(4);
    expect(Math.max(...sizes(parts)) - Math.min(...sizes(parts))).toBeLessThanOrEqual(2);
    expect(labelSkew(parts)).toBeGreaterThan(0.6);
  });

  it('quantity: skewed sizes with IID-like labels, never below minSamples', () => {
    const parts = partitionDataset(digits, { scheme: 'quantity', devices: 20, seed: 1, alpha: 0.1, minSamples: 10 });
    expect(Math.min(...sizes(parts))).toBeGreaterThanOrEqual(10);
    expect(Math.max(...sizes(parts))).toBeGreaterThan(10 * Math.min(...sizes(parts)));
    const even = meanSkew({ scheme: 'quantity', devices: 10, alpha: 1000 });
    expect(even).toBeLessThan(0.1);
    expect(meanSkew({ scheme: 'quantity', devices: 10, alpha: 0.5 })).toBeLessThan(meanSkew({ scheme: 'dirichlet', devices: 10, alpha: 0.5 }));
  });

  it('a single device gets everything under every scheme', () => {
    for (const scheme of partitionSchemes()) {
      const [only] = partition([0, 1, 1, 0, 1], 2, { scheme, devices: 1, seed: 9, alpha: 1, shardsPerDevice: 1 });
      expect(Array.from(only.indices)).toEqual([0, 1, 2, 3, 4]);
      expect(only.histogram).toEqual([2, 3]);
    }
  });
});

describe('helpers', () => {
  it('lists the registered schemes in order', () => {
    expect(partitionSchemes()).toEqual(['iid', 'dirichlet', 'shards', 'quantity']);
  });

  it('cutByProportions cuts at floor(cumsum * n), as numpy.split in the FedML code', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    expect(cutByProportions(items, [0.25, 0.25, 0.5])).toEqual([[0, 1], [2, 3, 4], [5, 6, 7, 8, 9]]);
    expect(cutByProportions(items, [0, 3, 0, 1])).toEqual([[], [0, 1, 2, 3, 4, 5, 6], [], [7, 8, 9]]);
  });

  it('labelSkew: 0 for identical label mixes, 0.5 for two disjoint halves of a balanced pool', () => {
    const part = (histogram: number[]) => ({ indices: new Int32Array(histogram.reduce((a, b) => a + b, 0)), histogram });
    expect(labelSkew([part([1, 1]), part([2, 2])])).toBe(0);
    expect(labelSkew([part([2, 0]), part([0, 2])])).toBe(0.5);
    // Pooled (4/5, 1/5). Device (3/4, 1/4): TV 0.05; device (1, 0): TV 0.2; the empty device is skipped.
    expect(labelSkew([part([3, 1]), part([1, 0]), part([0, 0])])).toBeCloseTo((0.05 + 0.2) / 2, 12);
  });
});
