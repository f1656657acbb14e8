/**
 * An exponential moving average of a model's weights (Polyak averaging, as in mean-teacher and SWA/EMA
 * students). The synthetic transfer set drifts as the generator trains, so the student's accuracy moves by a
 * point or more from round to round; the average smooths those moves out.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The decay of a once-a-round average (studentEmaEvery 'round') at round r (from 1): min(decay, (r − 1) / r), the
 * plain mean of every round so far until 1 / (1 − decay) rounds have passed, then an exponential average.
 */
export function roundDecay(decay: number, round: number): number {
  return Math.min(decay, (round - 1) / round);
}

export class WeightAverage {
  private readonly averages: tf.Variable[];

  /** Starts at the model's current weights; `decay` in (0, 1) is kept per update. */
  constructor(
    private readonly model: tf.LayersModel,
    readonly decay: number,
  ) {
    if (!(decay > 0 && decay < 1)) throw new Error(`weight average: decay must lie in (0, 1), got ${decay}`);
    this.averages = model.weights.map((w) => tf.variable(w.read().clone(), false));
  }

  /**
   * average ← decay · average + (1 − decay) · weights, with the average's own decay unless one is given
   * (0 takes the weights as they are); call after each optimizer step or each round.
   */
  update(decay = this.decay): void {
    if (!(decay >= 0 && decay < 1)) throw new Error(`weight average: an update's decay must lie in [0, 1), got ${decay}`);
    tf.tidy(() => {
      this.model.weights.forEach((w, i) => {
        const a = this.averages[i];
        a.assign(tf.add(tf.mul(a, decay), tf.mul(w.read(), 1 - decay)));
      });
    });
  }

  /** Runs `fn` with the averaged weights in the model, then puts the model's own weights back. */
  async withAverage<T>(fn: () => Promise<T> | T): Promise<T> {
    const own = this.model.weights.map((w) => w.read().clone());
    this.model.setWeights(this.averages);
    try {
      return await fn();
    } finally {
      this.model.setWeights(own);
      tf.dispose(own);
    }
  }

  /** Leaves the averaged weights in the model (for export once training is over). */
  install(): void {
    this.model.setWeights(this.averages);
  }

  /** The averaged arrays in the model's weight order (for checkpoints). */
  arrays(): { shape: number[]; values: Float32Array }[] {
    return this.averages.map((a) => ({ shape: a.shape, values: Float32Array.from(a.dataSync()) }));
  }

  /** Restores arrays written by arrays(); throws if they do not fit the model. */
  restore(arrays: { shape: number[]; values: Float32Array }[]): void {
    if (arrays.length !== this.averages.length) throw new Error(`weight average: ${arrays.length} arrays for a model with ${this.averages.length} weights`);
    arrays.forEach((a, i) => {
      if (a.values.length !== this.averages[i].size) throw new Error(`weight average: array ${i} has ${a.values.length} values, the model's weight ${this.averages[i].size}`);
      tf.tidy(() => this.averages[i].assign(tf.tensor(a.values, this.averages[i].shape)));
    });
  }

  dispose(): void {
    tf.dispose(this.averages);
  }
}
