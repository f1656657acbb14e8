/**
 * What `procedural.balance` costs a round: building the pool's class-balanced sampler over 60,000 rows and the
 * student steps' 150 draws of 64 rows, against uniform draws. Median of 5.
 *
 *   npx tsx bench/pool-sampler.ts
 */
import { ReplayBuffer } from '../coordinator/engine/replay.js';
import { seededRandom } from '../shared/random.js';

const FEATURES = 784;
const CLASSES = 10;
const POOL = 60_000;
const pool = new ReplayBuffer(POOL, FEATURES, CLASSES);
const rng = seededRandom(1);
pool.push(new Float32Array(POOL * FEATURES).map(() => rng.next()), new Float32Array(POOL * CLASSES).map(() => rng.next()));
for (const balance of [0, 1]) {
  const times: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    const draw = pool.classBalancedSampler(balance);
    for (let step = 0; step < 150; step++) draw(64, rng);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`balance ${balance}: sampler + 150 draws of 64 rows: median ${times[2].toFixed(1)} ms a round`);
}
