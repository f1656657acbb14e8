/** Procedural silhouettes: reproducible from the seed, in [0, 1], an object on a plain background, and varied. */
import { describe, expect, it } from 'vitest';
import { proceduralBatch, proceduralImage } from '../../coordinator/engine/procedural.js';
import { seededRandom } from '../../shared/random.js';

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
});
