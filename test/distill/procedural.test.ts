/** Procedural silhouettes: reproducible from the seed, in [0, 1], an object on a plain background, and varied. */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { MAX_PROCEDURAL_PER_QUERY, proceduralBatch, proceduralImage, proceduralImages, proceduralSpecProblem, withProceduralInputs } from '../../shared/distill/procedural.js';
import { seededRandom } from '../../shared/random.js';
import { proceduralPoolQueries, withPoolShare } from '../../coordinator/engine/procedural-pool.js';
import { ReplayBuffer } from '../../coordinator/engine/replay.js';

describe('procedural images', () => {
  it('are the same for the same seed and differ between seeds', () => {
    const a = proceduralBatch(seededRandom(7), 16, 28, 28);
    expect(proceduralBatch(seededRandom(7), 16, 28, 28)).toEqual(a);
    expect(proceduralBatch(seededRandom(8), 16, 28, 28)).not.toEqual(a);
    expect(a).toHaveLength(16 * 28 * 28);
  });

  it('lie in [0, 1], each with an object (lit pixels) on a dark border', () => {
    const rng = seededRandom(3);
    for (let k = 0; k < 200; k++) {
      const img = proceduralImage(rng, 28, 28);
      expect(img.every((v) => v >= 0 && v <= 1)).toBe(true);
      const lit = img.filter((v) => v > 0.1).length;
      expect(lit).toBeGreaterThan(10);
      // The frame's corners are background in nearly every image: shapes sit near the centre.
      expect(lit).toBeLessThan(28 * 28);
    }
    const corners = Array.from({ length: 200 }, () => proceduralImage(rng, 28, 28)).filter((img) => img[0] === 0 && img[27] === 0 && img[27 * 28] === 0 && img[28 * 28 - 1] === 0).length;
    expect(corners).toBeGreaterThan(150);
  });

  it('vary: the mean pixel and the lit area spread widely across images', () => {
    const rng = seededRandom(11);
    const means = Array.from({ length: 300 }, () => {
      const img = proceduralImage(rng, 28, 28);
      return img.reduce((s, v) => s + v, 0) / img.length;
    }).sort((x, y) => x - y);
    expect(means[270] - means[30]).toBeGreaterThan(0.15);
  });

  it('in a style: mirror 1 makes every image left-right symmetric, upright 1 stands shapes axis-aligned, and no style is the plain one', () => {
    // The plain style draws what the generator drew before styles existed (pixel sums of commit 794cdcb's draw),
    // so the plain-pool runs in bench/results reproduce.
    const plain = proceduralBatch(seededRandom(5), 20, 28, 28, { mirror: 0, upright: 0 });
    expect(plain.reduce((a, v) => a + v, 0)).toBeCloseTo(3748.6897607985884, 6);
    expect(plain.reduce((a, v, i) => a + v * ((i % 97) + 1), 0)).toBeCloseTo(184662.5073320251, 4);
    const rng = seededRandom(6);
    for (let k = 0; k < 50; k++) {
      const img = proceduralImage(rng, 28, 28, { mirror: 1, upright: 0 });
      for (let y = 0; y < 28; y++) for (let x = 0; x < 14; x++) expect(img[y * 28 + 27 - x]).toBe(img[y * 28 + x]);
    }
    // A shape at an angle fills less of its bounding box than one standing upright.
    const boxFill = (img: Float32Array) => {
      const lit = [...img.keys()].filter((i) => img[i] > 0);
      const xs = lit.map((i) => i % 28);
      const ys = lit.map((i) => Math.floor(i / 28));
      return lit.length / ((Math.max(...xs) - Math.min(...xs) + 1) * (Math.max(...ys) - Math.min(...ys) + 1));
    };
    const meanFill = (upright: number) => {
      const r = seededRandom(9);
      return Array.from({ length: 300 }, () => boxFill(proceduralImage(r, 28, 28, { mirror: 0, upright }))).reduce((a, b) => a + b) / 300;
    };
    expect(meanFill(1)).toBeGreaterThan(meanFill(0) + 0.05);
  });

  it('texture and fill at 0 draw the images of the style without them (the table\'s pool), bit for bit', () => {
    // Pixel sums of the mirror 0.5 / upright 0.5 style as drawn before texture and fill existed.
    const styled = proceduralBatch(seededRandom(5), 20, 28, 28, { mirror: 0.5, upright: 0.5 });
    expect(styled.reduce((a, v) => a + v, 0)).toBeCloseTo(2938.6646914537996, 6);
    expect(styled.reduce((a, v, i) => a + v * ((i % 97) + 1), 0)).toBeCloseTo(144106.08081976697, 4);
    expect(proceduralBatch(seededRandom(5), 20, 28, 28, { mirror: 0.5, upright: 0.5, texture: 0, fill: 0 })).toEqual(styled);
  });

  it('are drawn bit for bit as before the drawing was sped up (devices and coordinator must draw the same pool)', () => {
    // SHA-256 prefixes of 400 images per style from seed 7, as drawn at commit 8acecd7, which visited every pixel
    // of every shape; the faster drawing visits only each shape's bounding box.
    const fingerprint = (style: Parameters<typeof proceduralBatch>[4]) =>
      createHash('sha256').update(new Uint8Array(proceduralBatch(seededRandom(7), 400, 28, 28, style).buffer)).digest('hex').slice(0, 16);
    expect(fingerprint({ mirror: 0, upright: 0 })).toBe('c8768e654785a426');
    expect(fingerprint({ mirror: 0.5, upright: 0.5 })).toBe('0f0c96fb6de2132a');
    expect(fingerprint({ mirror: 0.5, upright: 0.5, texture: 0.5, fill: 0.5 })).toBe('828264d696c6b45f');
  });

  it('texture 1 puts fine detail on the surfaces: neighbouring lit pixels differ far more', () => {
    const roughness = (texture: number) => {
      const rng = seededRandom(21);
      let sum = 0;
      let pairs = 0;
      for (let k = 0; k < 300; k++) {
        const img = proceduralImage(rng, 28, 28, { mirror: 0, upright: 0, texture });
        for (let y = 0; y < 28; y++) for (let x = 0; x < 27; x++) {
          const [a, b] = [img[y * 28 + x], img[y * 28 + x + 1]];
          if (a > 0 && b > 0) { sum += Math.abs(a - b); pairs++; }
        }
      }
      return sum / pairs;
    };
    expect(roughness(1)).toBeGreaterThan(1.5 * roughness(0));
  });

  it('fill 1 scales every object up to span at least 80% of the frame, centred; a mirrored one stays symmetric', () => {
    const rng = seededRandom(23);
    const spans = { plain: [] as number[], filled: [] as number[] };
    const offsets: number[] = [];
    const extent = (img: Float32Array) => {
      const lit = [...img.keys()].filter((i) => img[i] > 0.02);
      const xs = lit.map((i) => i % 28);
      const ys = lit.map((i) => Math.floor(i / 28));
      return { span: Math.max(Math.max(...xs) - Math.min(...xs) + 1, Math.max(...ys) - Math.min(...ys) + 1), cx: (Math.max(...xs) + Math.min(...xs)) / 2 };
    };
    for (let k = 0; k < 200; k++) {
      spans.plain.push(extent(proceduralImage(rng, 28, 28, { mirror: 0, upright: 0 })).span);
      const img = proceduralImage(rng, 28, 28, { mirror: 0, upright: 0, fill: 1 });
      const { span, cx } = extent(img);
      spans.filled.push(span);
      expect(span).toBeGreaterThanOrEqual(Math.floor(0.8 * 28));
      offsets.push(Math.abs(cx - 13.5));
      expect(img.every((v) => v >= 0 && v <= 1)).toBe(true);
      // Mirroring comes after the scaling, so a mirrored image is still exactly symmetric.
      const mirrored = proceduralImage(rng, 28, 28, { mirror: 1, upright: 0, texture: 1, fill: 1 });
      for (let y = 0; y < 28; y++) for (let x = 0; x < 14; x++) expect(mirrored[y * 28 + 27 - x]).toBe(mirrored[y * 28 + x]);
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b) / v.length;
    expect(mean(spans.filled)).toBeGreaterThan(mean(spans.plain) + 3);
    // Centred, but for objects the frame's edge had cut, whose cut box is what gets centred.
    expect(mean(offsets)).toBeLessThan(0.75);
  });
});

describe('seeded procedural queries', () => {
  it('a spec draws the images of its seed; they follow the query inputs', () => {
    const spec = { seed: 42, count: 5 };
    expect(proceduralImages(spec, [28, 28, 1])).toEqual(proceduralBatch(seededRandom(42), 5, 28, 28));
    const inputs = { shape: [2, 28, 28, 1], values: new Float32Array(2 * 784).fill(0.5) };
    const all = withProceduralInputs(inputs, spec, [28, 28, 1]);
    expect(all.shape).toEqual([7, 28, 28, 1]);
    expect(Array.from(all.values.subarray(0, 2 * 784))).toEqual(Array.from(inputs.values));
    expect(all.values.subarray(2 * 784)).toEqual(proceduralImages(spec, [28, 28, 1]));
    expect(proceduralImages({ ...spec, mirror: 0.5, upright: 0.25 }, [28, 28, 1])).toEqual(proceduralBatch(seededRandom(42), 5, 28, 28, { mirror: 0.5, upright: 0.25 }));
    expect(proceduralImages({ ...spec, texture: 0.5, fill: 1 }, [28, 28, 1])).toEqual(proceduralBatch(seededRandom(42), 5, 28, 28, { mirror: 0, upright: 0, texture: 0.5, fill: 1 }));
  });

  it('names what is wrong with a bad spec', () => {
    expect(proceduralSpecProblem({ seed: 1, count: 3 }, [28, 28, 1])).toBeUndefined();
    expect(proceduralSpecProblem({ seed: 1, count: 0 }, [28, 28, 1])).toMatch(/procedural.count must be an integer in 1..4096, got 0/);
    expect(proceduralSpecProblem({ seed: 1, count: MAX_PROCEDURAL_PER_QUERY + 1 }, [28, 28, 1])).toMatch(/procedural.count/);
    expect(proceduralSpecProblem({ seed: -1, count: 3 }, [28, 28, 1])).toMatch(/procedural.seed must be an integer/);
    expect(proceduralSpecProblem({ seed: 1, count: 3 }, [30])).toMatch(/single-channel images \[height, width, 1\]; this teacher takes \[30\]/);
    expect(proceduralSpecProblem({ seed: 1, count: 3 }, [32, 32, 3])).toMatch(/single-channel/);
    expect(proceduralSpecProblem({ seed: 1, count: 3, mirror: 1.5 }, [28, 28, 1])).toMatch(/procedural.mirror must be a probability in \[0, 1\], got 1.5/);
    expect(proceduralSpecProblem({ seed: 1, count: 3, upright: -0.1 }, [28, 28, 1])).toMatch(/procedural.upright must be a probability/);
    expect(proceduralSpecProblem({ seed: 1, count: 3, texture: 2 }, [28, 28, 1])).toMatch(/procedural.texture must be a probability in \[0, 1\], got 2/);
    expect(proceduralSpecProblem({ seed: 1, count: 3, fill: Number.NaN }, [28, 28, 1])).toMatch(/procedural.fill must be a probability/);
  });
});

describe('the coordinator\'s procedural pool', () => {
  it('is asked for in queries of at most 4,096 images that carry no inputs, seeded by the run alone', () => {
    const queries = proceduralPoolQueries(7, 10_000, [28, 28, 1]);
    expect(queries.map((q) => q.procedural.count)).toEqual([4096, 4096, 1808]);
    queries.forEach((q) => expect(q.inputs).toEqual({ shape: [0, 28, 28, 1], values: new Float32Array(0) }));
    expect(new Set(queries.map((q) => q.procedural.seed)).size).toBe(3);
    expect(proceduralPoolQueries(7, 10_000, [28, 28, 1])).toEqual(queries);
    expect(proceduralPoolQueries(8, 10_000, [28, 28, 1])[0].procedural.seed).not.toBe(queries[0].procedural.seed);
    // A style travels with every query, and only its probabilities above 0.
    expect(queries[0].procedural).not.toHaveProperty('mirror');
    const styled = proceduralPoolQueries(7, 10_000, [28, 28, 1], { mirror: 0.5, upright: 0 });
    styled.forEach((q, k) => expect(q.procedural).toEqual({ ...queries[k].procedural, mirror: 0.5 }));
    const surfaced = proceduralPoolQueries(7, 10_000, [28, 28, 1], { mirror: 0, upright: 0.5, texture: 0.25, fill: 0 });
    surfaced.forEach((q, k) => expect(q.procedural).toEqual({ ...queries[k].procedural, upright: 0.5, texture: 0.25 }));
  });

  it('gives a student batch its share of pool rows first, then rows drawn from the replay buffer', () => {
    const pool = new ReplayBuffer(4, 2, 2);
    pool.push(Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1]), Float32Array.from([1, 0, 1, 0, 1, 0, 1, 0]));
    const replay = new ReplayBuffer(4, 2, 2);
    replay.push(Float32Array.from([2, 2, 2, 2, 2, 2, 2, 2]), Float32Array.from([0, 1, 0, 1, 0, 1, 0, 1]));
    const batch = withPoolShare((n, rng) => replay.sample(n, rng), (n, rng) => pool.sample(n, rng), 4, 0.25, seededRandom(1));
    expect(batch.n).toBe(4);
    expect(Array.from(batch.x)).toEqual([1, 1, 2, 2, 2, 2, 2, 2]);
    expect(Array.from(batch.targets)).toEqual([1, 0, 0, 1, 0, 1, 0, 1]);
    expect(Array.from(withPoolShare((n, rng) => replay.sample(n, rng), (n, rng) => pool.sample(n, rng), 4, 1, seededRandom(1)).x)).toEqual(new Array(8).fill(1));
  });

  it('draws the pool\'s rows class-balanced by the vote when asked to, and uniformly otherwise', () => {
    // 900 pool rows the vote calls class 0 and 100 it calls class 1 (the images carry their class as a pixel value).
    const pool = new ReplayBuffer(1000, 1, 2);
    for (let i = 0; i < 1000; i++) pool.push(Float32Array.of(i < 900 ? 0 : 1), Float32Array.from(i < 900 ? [0.9, 0.1] : [0.2, 0.8]));
    const replay = new ReplayBuffer(20, 1, 2);
    replay.push(new Float32Array(20).fill(5), new Float32Array(40).fill(0.5));
    const shareOfClass1 = (balance: number): number => {
      const drawPool = pool.classBalancedSampler(balance);
      const rng = seededRandom(3);
      let ones = 0;
      for (let b = 0; b < 200; b++) {
        const batch = withPoolShare((n, r) => replay.sample(n, r), drawPool, 20, 0.5, rng);
        // The first 10 rows are the pool's, the rest the replay buffer's.
        expect(Array.from(batch.x.subarray(10))).toEqual(new Array(10).fill(5));
        ones += batch.x.subarray(0, 10).reduce((a, v) => a + v, 0);
      }
      return ones / 2000;
    };
    expect(shareOfClass1(0)).toBeCloseTo(0.1, 1);
    expect(shareOfClass1(1)).toBeCloseTo(0.5, 1);
  });
});
