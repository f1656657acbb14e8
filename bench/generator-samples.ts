/**
 * Draws a finished or running distillation's generator from its last checkpoint as a PNG grid (one row per
 * class), to see what the generator makes mid-run: `npx tsx bench/generator-samples.ts <run folder> <out.png>`.
 */
import * as tf from '@tensorflow/tfjs';
import { generatorFor } from '../coordinator/engine/generator.js';
import { readCheckpointContents } from '../coordinator/engine/checkpoint.js';
import { writeSamples } from '../coordinator/samples.js';
import { initBackend } from '../shared/compute/backend.js';

const [run, out] = process.argv.slice(2);
if (!run || !out) {
  console.error('usage: npx tsx bench/generator-samples.ts <run folder> <out.png>');
  process.exit(2);
}
await initBackend(() => {}, { threads: 'auto' });
const saved = readCheckpointContents(`${run}/checkpoint`);
if (!saved.setup) throw new Error(`${run}/checkpoint: no setup recorded; this checkpoint predates setups`);
const numClasses = saved.student.at(-1)!.shape.at(-1)!;
// The student's first kernel is [kh, kw, channels, filters]; the scenarios' image sets are square.
const kernel = saved.student[0].shape;
if (kernel.length !== 4) throw new Error(`${run}: the student takes no images, so there is nothing to draw`);
const side = Math.round(Math.sqrt(saved.replay.x.length / saved.replay.size / kernel[2]));
const sampleShape = [side, side, kernel[2]];
const G = generatorFor(saved.setup.config, sampleShape, numClasses, saved.setup.seed);
G.setWeights(saved.generator.map((a) => tf.tensor(a.values, a.shape)));
console.log(`${writeSamples(out, G, numClasses, saved.setup.config.zDim, sampleShape, saved.setup.seed)} (round ${saved.round})`);
