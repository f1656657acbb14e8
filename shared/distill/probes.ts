/**
 * Seeded finite-difference probes for black-box teachers (the zeroth-order path, DFME).
 *
 * A forward-difference gradient needs the teacher's logits at x and at x + μ·u_k for K random unit
 * directions u_k per sample. Sending all K + 1 probes costs K + 1 times the input bytes. Both sides can draw
 * the same directions from one seed instead: the coordinator sends x once with {directions, mu, seed}, the
 * device expands the probes itself, and the coordinator redraws the directions to form the estimate. The
 * answers are the same as for the explicit probes, bit for bit, for about 1/(K + 1) of the downlink.
 *
 * Pure and shared by both roles, so the two expansions cannot drift apart.
 */
import { seededRandom } from '../random.js';
import type { TensorData } from './port.js';

export interface ProbeSpec {
  /** K: random directions per sample, 1..MAX_PROBE_DIRECTIONS. */
  directions: number;
  /** μ: the finite-difference step, in input units. */
  mu: number;
  /** Seeds the directions (shared/random.ts seededRandom); the coordinator derives one per query (probeSeed). */
  seed: number;
}

/** Directions a device expands at most per sample (bounds its memory: K + 1 forward passes per input). */
export const MAX_PROBE_DIRECTIONS = 64;

/** Why a probe spec is unusable, or undefined when it is fine. */
export function probeSpecProblem(p: ProbeSpec): string | undefined {
  if (!(Number.isInteger(p.directions) && p.directions >= 1 && p.directions <= MAX_PROBE_DIRECTIONS))
    return `probes.directions must be an integer in 1..${MAX_PROBE_DIRECTIONS}, got ${JSON.stringify(p.directions)}`;
  if (!(typeof p.mu === 'number' && p.mu > 0 && Number.isFinite(p.mu))) return `probes.mu must be a finite number > 0, got ${JSON.stringify(p.mu)}`;
  if (!(Number.isInteger(p.seed) && p.seed >= 0 && p.seed <= 0xffffffff)) return `probes.seed must be an integer in 0..2^32-1, got ${JSON.stringify(p.seed)}`;
  return undefined;
}

/**
 * The K·n unit directions, direction-major: u for direction k of sample i is row k·n + i, `perSample` values.
 * Drawn as normalised standard normals, row by row, from `rng`.
 */
export function probeDirections(n: number, perSample: number, directions: number, rng: { normal(): number }): Float32Array {
  const dirs = new Float32Array(directions * n * perSample);
  for (let row = 0; row < directions * n; row++) {
    const u = dirs.subarray(row * perSample, (row + 1) * perSample);
    let norm = 0;
    for (let j = 0; j < perSample; j++) norm += (u[j] = rng.normal()) ** 2;
    norm = Math.sqrt(norm);
    for (let j = 0; j < perSample; j++) u[j] /= norm;
  }
  return dirs;
}

/** The seeded directions of a probe spec for a batch of `n` samples of `perSample` values. */
export function seededProbeDirections(n: number, perSample: number, p: ProbeSpec): Float32Array {
  return probeDirections(n, perSample, p.directions, seededRandom(p.seed));
}

/**
 * The probe seed of one query: a hash of the run's seed, the device and the query's inputs. It depends on
 * nothing but what the query is, so a run resumed from a checkpoint draws the same directions as an
 * uninterrupted one, and two devices asked about the same batch get independent directions.
 */
export function probeSeed(seed: number, deviceId: string, inputs: Float32Array): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  const mix = (word: number) => {
    h = Math.imul(h ^ word, 0x01000193);
    h ^= h >>> 15;
  };
  for (let i = 0; i < deviceId.length; i++) mix(deviceId.charCodeAt(i));
  const words = new Uint32Array(inputs.buffer, inputs.byteOffset, inputs.length);
  for (let i = 0; i < words.length; i++) mix(words[i]);
  return h >>> 0;
}

/** x followed by x + μ·u_k for every direction k: [(K + 1)·n, ...sample], the rows the logits answer. */
export function expandProbes(inputs: TensorData, mu: number, dirs: Float32Array): TensorData {
  const [n, ...sample] = inputs.shape;
  const size = inputs.values.length;
  const K = dirs.length / size;
  const probes = new Float32Array((K + 1) * size);
  probes.set(inputs.values, 0);
  for (let k = 0; k < K; k++) {
    const block = probes.subarray((k + 1) * size, (k + 2) * size);
    for (let j = 0; j < size; j++) block[j] = inputs.values[j] + mu * dirs[k * size + j];
  }
  return { shape: [(K + 1) * n, ...sample], values: probes };
}

/** What a device evaluates for a query with `probes`: the seeded expansion of its inputs. */
export function seededProbeInputs(inputs: TensorData, p: ProbeSpec): TensorData {
  const [n, ...sample] = inputs.shape;
  const perSample = sample.reduce((a, b) => a * b, 1);
  return expandProbes(inputs, p.mu, seededProbeDirections(n, perSample, p));
}
