/**
 * The variants bench:replay (replay-student.ts) can train: how each student starts, what it learns from and how.
 */
import type { ProceduralStyle } from '../shared/distill/procedural.js';
import type { JitterSettings } from '../coordinator/engine/jitter.js';
import type { RefineSettings } from './pool-refine.js';

/** `continue`: the run's final student; `scratch`: a freshly initialised one. */
export interface Variant {
  init: 'continue' | 'scratch';
  schedule: 'constant' | 'cosine';
  /** Temperature of the KD loss (the stored soft labels are re-expressed at it); absent: the run's. */
  tau?: number;
  /** Evaluate an exponential moving average of the student's weights with this decay per step. */
  ema?: number;
  /** The student's loss: KL at τ (the engine's), or squared error on centred logits (logitMatchLoss). */
  loss?: 'kl' | 'logits';
  /**
   * Hard-sample mining: draw this many times the batch, keep the samples the student is furthest from (by
   * per-sample KL) for the step. Absent: uniform batches, as the engine draws them.
   */
  hardPick?: number;
  /** Class-balanced draws (ReplayBuffer.classBalancedSampler): 0 uniform, 1 every labelled class alike. */
  balance?: number;
  /**
   * Relabel the buffer: the scenario's cached teachers answer on its samples, their votes combined at this
   * temperature and re-expressed at the run's τ (aggregateTargets). Absent: the stored soft labels.
   */
  voteTau?: number;
  /**
   * Relabel the buffer, and label the pool and any fresh batches, with this aggregation strategy instead of the
   * run's (its cached teachers answering, as with `voteTau`). Absent: the run's strategy.
   */
  aggregation?: string;
  /**
   * Jacobian matching (bench/jacobian-set.ts): each step adds `weight` × the squared error between the
   * student's and the teachers' directional derivatives of the vote's margin on 64 samples of a set of
   * `--jacobian-samples` buffer samples (central differences of step `epsilon`). Absent: off.
   */
  jacobian?: { weight: number; epsilon: number };
  /**
   * Fresh labels for every step (DENSE's KD, which holds the teachers white-box): each drawn batch is shifted
   * and flipped per sample (`shift` 0: as stored), and the run's cached teachers label that batch, combined as the
   * run combines them. What devices answering a logits query per student step would give. Absent: stored labels.
   */
  freshLabels?: JitterSettings;
  /**
   * A fresh student (scratch only) of the scenario's spec with these settings changed: `batchNorm` after every
   * conv and dense layer, a CNN's `conv` filters and `dense` units, or `dropout` after every dense layer. Absent:
   * the scenario's student.
   */
  student?: { batchNorm?: boolean; conv?: number[]; dense?: number[]; dropout?: number };
  /**
   * MixUp between replayed samples: each drawn sample is blended with another of the batch, x = λ·a + (1 − λ)·b
   * with λ uniform in [0, 1] per sample. `labels: 'mixed'` blends the stored soft labels the same way (no device
   * asked); `'fresh'` has the cached teachers label the blend (what a logits query per student step would give).
   * Runs after `freshLabels`' jitter when both are set.
   */
  mixup?: { labels: 'mixed' | 'fresh' };
  /**
   * Procedural silhouettes (shared/distill/procedural.ts): a pool of `pool` images drawn from no data,
   * labelled once by the cached teachers as the run combines them (what logits queries on them would store),
   * and `share` of every batch drawn from that pool instead of the buffer (1: the pool alone).
   */
  procedural?: {
    pool: number;
    share: number;
    style?: ProceduralStyle;
    /**
     * Draw this many candidates (≥ pool), have the teachers label them all, and keep `pool` of them with as even
     * a spread of the vote's top class as the candidates allow (selectBalanced). Absent: the first `pool`.
     */
    candidates?: number;
    /** Draw the pool's rows for each batch class-balanced by the vote's top class (1) or uniformly (0, absent). */
    balance?: number;
    /** Refine the drawn pool with the teachers' own loss before labelling it (bench/pool-refine.ts). */
    refine?: RefineSettings;
  };
}

export const VARIANTS: Record<string, Variant> = {
  continue: { init: 'continue', schedule: 'constant' },
  'continue-cosine': { init: 'continue', schedule: 'cosine' },
  'continue-ema0.99': { init: 'continue', schedule: 'constant', ema: 0.99 },
  'continue-ema0.995': { init: 'continue', schedule: 'constant', ema: 0.995 },
  'continue-ema0.999': { init: 'continue', schedule: 'constant', ema: 0.999 },
  'scratch-logits': { init: 'scratch', schedule: 'cosine', loss: 'logits' },
  'scratch-hard4': { init: 'scratch', schedule: 'cosine', hardPick: 4 },
  'continue-hard4': { init: 'continue', schedule: 'constant', hardPick: 4 },
  'continue-logits': { init: 'continue', schedule: 'constant', loss: 'logits' },
  'scratch-tau1': { init: 'scratch', schedule: 'cosine', tau: 1 },
  'scratch-tau4': { init: 'scratch', schedule: 'cosine', tau: 4 },
  'scratch-tau20': { init: 'scratch', schedule: 'cosine', tau: 20 },
  'scratch-balanced': { init: 'scratch', schedule: 'cosine', balance: 1 },
  'scratch-balanced0.5': { init: 'scratch', schedule: 'cosine', balance: 0.5 },
  'continue-balanced': { init: 'continue', schedule: 'constant', balance: 1 },
  'continue-balanced0.5': { init: 'continue', schedule: 'constant', balance: 0.5 },
  'scratch-vote1': { init: 'scratch', schedule: 'cosine', voteTau: 1 },
  'scratch-vote1-balanced': { init: 'scratch', schedule: 'cosine', voteTau: 1, balance: 1 },
  'scratch-jacobian0.03': { init: 'scratch', schedule: 'cosine', jacobian: { weight: 0.03, epsilon: 0.02 } },
  'scratch-jacobian0.3-eps0.1': { init: 'scratch', schedule: 'cosine', jacobian: { weight: 0.3, epsilon: 0.1 } },
  'continue-jacobian0.03': { init: 'continue', schedule: 'constant', jacobian: { weight: 0.03, epsilon: 0.02 } },
  'scratch-relabel': { init: 'scratch', schedule: 'cosine', freshLabels: { shift: 0, flip: false } },
  'scratch-augrelabel': { init: 'scratch', schedule: 'cosine', freshLabels: { shift: 3, flip: true } },
  'continue-augrelabel': { init: 'continue', schedule: 'constant', freshLabels: { shift: 3, flip: true } },
  'scratch-bn': { init: 'scratch', schedule: 'cosine', student: { batchNorm: true } },
  'scratch-mixup': { init: 'scratch', schedule: 'cosine', mixup: { labels: 'mixed' } },
  'scratch-mixup-relabel': { init: 'scratch', schedule: 'cosine', mixup: { labels: 'fresh' } },
  'continue-mixup-relabel': { init: 'continue', schedule: 'constant', mixup: { labels: 'fresh' } },
  'scratch-procedural': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 0.5 } },
  'scratch-procedural-only': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1 } },
  'continue-procedural': { init: 'continue', schedule: 'constant', procedural: { pool: 20000, share: 0.5 } },
  'scratch-procedural0.25': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 0.25 } },
  'scratch-procedural0.75': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 0.75 } },
  'scratch-procedural-pool60k': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5 } },
  'scratch-procedural-only-mirror': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0.5, upright: 0 } } },
  'scratch-procedural-only-upright': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0, upright: 0.5 } } },
  'scratch-procedural-only-both': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0.5, upright: 0.5 } } },
  'scratch-procedural-only-both0.3': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0.3, upright: 0.3 } } },
  'scratch-procedural-only-both0.7': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0.7, upright: 0.7 } } },
  'scratch-procedural-pool60k-both': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 } } },
  'continue-procedural-both': { init: 'continue', schedule: 'constant', procedural: { pool: 20000, share: 0.5, style: { mirror: 0.5, upright: 0.5 } } },
  'scratch-procedural-only-both-always': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 1, upright: 1 } } },
  'scratch-procedural-pool200k-both': { init: 'scratch', schedule: 'cosine', procedural: { pool: 200000, share: 0.5, style: { mirror: 0.5, upright: 0.5 } } },
  'scratch-procedural-pool60k-both-wide': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 } }, student: { conv: [32, 64], dense: [128] } },
  'scratch-wide': { init: 'scratch', schedule: 'cosine', student: { conv: [32, 64], dense: [128] } },
  'scratch-procedural-pool60k-both-wide-balanced': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1 }, student: { conv: [32, 64], dense: [128] } },
  'scratch-procedural-pool60k-both0.7-wide-balanced': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.7, upright: 0.7 }, balance: 1 }, student: { conv: [32, 64], dense: [128] } },
  'scratch-procedural-only-both-texture': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0.5, upright: 0.5, texture: 0.5 } } },
  'scratch-procedural-only-both-fill': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0.5, upright: 0.5, fill: 0.5 } } },
  'scratch-procedural-only-both-texture-fill': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0.5, upright: 0.5, texture: 0.5, fill: 0.5 } } },
  'scratch-procedural-only-both-texture0.8-fill0.8': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0.5, upright: 0.5, texture: 0.8, fill: 0.8 } } },
  'scratch-procedural-only-both-texture1-fill1': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 1, style: { mirror: 0.5, upright: 0.5, texture: 1, fill: 1 } } },
  'scratch-procedural-pool60k-texture-fill-wide-balanced': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5, texture: 0.5, fill: 0.5 }, balance: 1 }, student: { conv: [32, 64], dense: [128] } },
  'continue-procedural-pool60k-both-balanced': { init: 'continue', schedule: 'constant', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1 } },
  'continue-procedural-pool60k-texture-fill-balanced': { init: 'continue', schedule: 'constant', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5, texture: 0.5, fill: 0.5 }, balance: 1 } },
  'scratch-procedural-pool60k-texture-fill-share0.75-wide-balanced': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.75, style: { mirror: 0.5, upright: 0.5, texture: 0.5, fill: 0.5 }, balance: 1 }, student: { conv: [32, 64], dense: [128] } },
  'scratch-procedural-pool60k-of300k-both-wide': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, candidates: 300000 }, student: { conv: [32, 64], dense: [128] } },
  'scratch-procedural-pool60k-both-wide-d512': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 } }, student: { conv: [32, 64], dense: [512] } },
  'scratch-procedural-pool60k-both-wide3': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 } }, student: { conv: [32, 64, 128], dense: [128] } },
  'scratch-procedural-pool60k-both-wider': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 } }, student: { conv: [48, 96], dense: [192] } },
  'scratch-procedural-pool60k-both-wide-drop': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 } }, student: { conv: [32, 64], dense: [128], dropout: 0.3 } },
  'scratch-procedural-pool60k-both-wide-bn': { init: 'scratch', schedule: 'cosine', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 } }, student: { conv: [32, 64], dense: [128], batchNorm: true } },
  'scratch-pool60k-relabel-class-weighted': { init: 'scratch', schedule: 'cosine', aggregation: 'class-weighted', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1 } },
  'scratch-pool60k-relabel-aligned': { init: 'scratch', schedule: 'cosine', aggregation: 'aligned', procedural: { pool: 60000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1 } },
  'scratch-pool20k-balanced': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1 }, student: { conv: [32, 64], dense: [128] } },
  'scratch-pool20k-refine-top': { init: 'scratch', schedule: 'cosine', procedural: { pool: 20000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1, refine: { steps: 20, lr: 0.02, target: 'top', ce: 1, bn: 1, tv: 4 } }, student: { conv: [32, 64], dense: [128] } },
  'scratch-pool5k-balanced': { init: 'scratch', schedule: 'cosine', procedural: { pool: 5000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1 }, student: { conv: [32, 64], dense: [128] } },
  'scratch-pool5k-refine-uniform': { init: 'scratch', schedule: 'cosine', procedural: { pool: 5000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1, refine: { steps: 20, lr: 0.02, target: 'uniform', ce: 1, bn: 1, tv: 4 } }, student: { conv: [32, 64], dense: [128] } },
  'scratch-pool5k-refine-uniform-ce': { init: 'scratch', schedule: 'cosine', procedural: { pool: 5000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1, refine: { steps: 20, lr: 0.02, target: 'uniform', ce: 1, bn: 0, tv: 4 } }, student: { conv: [32, 64], dense: [128] } },
  'continue-pool5k-balanced': { init: 'continue', schedule: 'constant', procedural: { pool: 5000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1 } },
  'continue-pool5k-refine-uniform': { init: 'continue', schedule: 'constant', procedural: { pool: 5000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1, refine: { steps: 20, lr: 0.02, target: 'uniform', ce: 1, bn: 1, tv: 4 } } },
  'scratch-pool10k-balanced': { init: 'scratch', schedule: 'cosine', procedural: { pool: 10000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1 }, student: { conv: [32, 64], dense: [128] } },
  'scratch-pool10k-refine-uniform': { init: 'scratch', schedule: 'cosine', procedural: { pool: 10000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1, refine: { steps: 20, lr: 0.02, target: 'uniform', ce: 1, bn: 1, tv: 4 } }, student: { conv: [32, 64], dense: [128] } },
  'continue-pool10k-balanced': { init: 'continue', schedule: 'constant', procedural: { pool: 10000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1 } },
  'continue-pool10k-refine-uniform': { init: 'continue', schedule: 'constant', procedural: { pool: 10000, share: 0.5, style: { mirror: 0.5, upright: 0.5 }, balance: 1, refine: { steps: 20, lr: 0.02, target: 'uniform', ce: 1, bn: 1, tv: 4 } } },
};
