/**
 * Relabelled mixtures of replayed samples ("function matching", Beyer et al., CVPR 2022: a student learns
 * far more from a teacher asked about many interpolated and augmented views than from the few points it was
 * shown). After a round's generator steps the coordinator mixes random pairs of replay-buffer samples
 * (x = λ a + (1 − λ) b, λ ~ U(0, 1) per sample), optionally shifts and flips each mixture, and asks every
 * device for its teacher's logits on the result. The aggregated answers go into the replay buffer like any
 * query's. This differs from `studentJitter`, which moves replayed samples but keeps their stale labels:
 * here the teachers label exactly what the student will see.
 *
 * A logits query sends the inputs down and only [batch, classes] logits up, and costs the device one forward
 * pass: about half the bytes of a gradient query and a fraction of its compute, for new labelled samples that
 * lie between the generator's modes, near the teachers' decision boundaries.
 *
 * Measured on fmnist-cnn-dir0.5 (seed 2, 10 batches a round): faster early rounds, the same final accuracy
 * (78.87% against 78.92%, docs/benchmarks.md), for twice the bytes down. So it is off by default.
 */
import type { Random } from '../../shared/random.js';
import { drawJitter, jitterEachSample, jitterEnabled, type JitterSettings } from './jitter.js';
import type { ReplayBuffer } from './replay.js';

export interface RelabelSettings {
  /** Logits queries per round (0: off), each of `batchSize` mixtures. */
  batches: number;
  /** Mix random pairs of replayed samples; false relabels single (jittered) samples. */
  mixup: boolean;
  /** Per-sample shift (pixels) and flip applied to each mixture (images only). */
  shift: number;
  flip: boolean;
}

export const NO_RELABEL: RelabelSettings = { batches: 0, mixup: true, shift: 0, flip: false };

/**
 * One batch of up to `n` inputs to relabel, drawn from the buffer, as row-major values for `sampleShape`.
 * Draws from `rng` in a fixed order (pairs, mixing weights, then jitter), so runs and resumes repeat exactly.
 */
export function relabelInputs(replay: ReplayBuffer, n: number, sampleShape: readonly number[], s: RelabelSettings, rng: Random): { values: Float32Array; shape: number[] } {
  const a = replay.sample(n, rng);
  let values = a.x;
  if (s.mixup) {
    const b = replay.sample(a.n, rng);
    const features = replay.features;
    values = new Float32Array(a.x.length);
    for (let i = 0; i < a.n; i++) {
      const lambda = rng.next();
      for (let k = i * features; k < (i + 1) * features; k++) values[k] = lambda * a.x[k] + (1 - lambda) * b.x[k];
    }
  }
  const shape = [a.n, ...sampleShape];
  const jitter: JitterSettings = { shift: s.shift, flip: s.flip };
  if (jitterEnabled(jitter)) values = jitterEachSample(values, shape, () => drawJitter(jitter, rng));
  return { values, shape };
}
