/**
 * What bench:replay's pool refinement (bench/pool-refine.ts) does to procedural images: 64 images of the
 * scenario's pool style, each drawn row followed by the same images refined, and the vote's top classes and
 * mean confidence before and after.
 *
 *   npx tsx bench/pool-refine-peek.ts --scenario <file> [--seed 2] [--steps 20] [--target top|uniform] [--bn 1]
 *                                     [--out bench/results/replay-student/pool-refine-peek.png]
 */
import { proceduralBatch } from '../shared/distill/procedural.js';
import { writeImageGrid } from '../shared/image/png-grid.js';
import { argmaxRows } from '../shared/metrics/index.js';
import { seededRandom } from '../shared/random.js';
import { parseDistillConfig } from '../coordinator/engine/config.js';
import { arg, checkFlags, integer, positiveInt } from './args.js';
import { refineImages, requestedClasses, type RefineSettings } from './pool-refine.js';
import { teacherVote } from './fleet-teachers.js';
import { scenarioTeachers } from './scenario-teachers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const IMAGES = 64;
const COLUMNS = 8;

async function main(): Promise<void> {
  checkFlags(['scenario', 'seed', 'steps', 'target', 'bn', 'out']);
  const { s, seed, train, parts, models } = await scenarioTeachers();
  const config = parseDistillConfig(s.distill, 'scenario.distill');
  const target = arg('target') ?? 'top';
  if (target !== 'top' && target !== 'uniform') throw new Error(`--target must be top or uniform, got ${JSON.stringify(target)}`);
  const settings: RefineSettings = { steps: positiveInt('steps', 20), lr: 0.02, target, ce: 1, bn: integer('bn', 1, 0), tv: config.imagePrior.tv };
  const [height, width] = train.sampleShape;
  const histograms = parts.map((p) => p.histogram);
  const C = train.numClasses;
  const F = train.sampleShape.reduce((a, b) => a * b, 1);
  const teachers = { models, histograms, sampleShape: train.sampleShape };
  const vote = (x: Float32Array) => teacherVote(teachers, x, config.aggregation, 1);
  const raw = proceduralBatch(seededRandom(seed * 131 + 5), IMAGES, height, width, config.procedural);
  const before = vote(raw);
  const y = requestedClasses(target, IMAGES, C, seededRandom(seed * 17 + 3), () => before);
  const refined = refineImages(teachers, raw, y, settings);
  const after = vote(refined);
  const confidence = (v: Float32Array) => argmaxRows(v, C).reduce((sum, c, i) => sum + v[i * C + c], 0) / IMAGES;
  console.log(`top class before: ${Array.from(argmaxRows(before, C)).join('')}  mean confidence ${confidence(before).toFixed(3)}`);
  console.log(`top class after:  ${Array.from(argmaxRows(after, C)).join('')}  mean confidence ${confidence(after).toFixed(3)}`);
  // Rows alternate: eight images as drawn, then the same eight refined.
  const grid = new Float32Array(2 * raw.length);
  for (let r = 0; r < IMAGES / COLUMNS; r++) {
    grid.set(raw.subarray(r * COLUMNS * F, (r + 1) * COLUMNS * F), 2 * r * COLUMNS * F);
    grid.set(refined.subarray(r * COLUMNS * F, (r + 1) * COLUMNS * F), (2 * r + 1) * COLUMNS * F);
  }
  const out = arg('out') ?? `${ROOT}bench/results/replay-student/pool-refine-peek-${target}.png`;
  writeImageGrid(out, grid, train.sampleShape, (2 * IMAGES) / COLUMNS, COLUMNS, 2);
  console.log(`wrote ${out}`);
  models.forEach((m) => m.dispose());
}

main().catch((e: Error) => {
  console.error(`pool-refine-peek: ${e.message}`);
  process.exit(1);
});
