/**
 * What the procedural pool's style costs to draw: 60,000 images of 28 × 28 (the fmnist pool, drawn once on
 * every device and once on the coordinator) in the table's style and with `texture` and `fill` added. Median of 3.
 *
 *   npx tsx bench/procedural-draw.ts
 */
import { proceduralBatch, type ProceduralStyle } from '../shared/distill/procedural.js';
import { seededRandom } from '../shared/random.js';

const POOL = 60_000;
const STYLES: Record<string, ProceduralStyle> = {
  'mirror 0.5, upright 0.5 (the table)': { mirror: 0.5, upright: 0.5 },
  '+ texture 0.5, fill 0.5': { mirror: 0.5, upright: 0.5, texture: 0.5, fill: 0.5 },
};
for (const [name, style] of Object.entries(STYLES)) {
  const times: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    proceduralBatch(seededRandom(rep + 1), POOL, 28, 28, style);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`${name}: ${POOL} images in ${(times[1] / 1000).toFixed(2)} s (median of 3)`);
}
