/** Distillation hyper-parameters, their defaults, and validation that names the bad field. */
import { BN_CLASS_MIXES, MAX_CE_FOCAL, MAX_SMOOTHGRAD_SAMPLES, type BnClassMix, type DeviceLossWeights } from '../../shared/distill/port.js';
import { AGGREGATION_NAMES } from '../../shared/distill/aggregation/index.js';
import type { JitterSettings } from './jitter.js';
import { MAX_ZOOM } from './zoom.js';
import { NO_RELABEL, type RelabelSettings } from './relabel.js';
import { badStyleProbability, STYLE_MEANING, type ProceduralSettings } from '../../shared/distill/procedural.js';
import { GENERATOR_UPSAMPLES, MAX_GENERATOR_BRANCHES } from './generator.js';
import { MAX_SHAPES } from './shape-generator.js';
import { MAX_PROBE_DIRECTIONS } from '../../shared/distill/probes.js';

/** The student's learning-rate schedules (DistillConfig.studentLrSchedule). */
export const STUDENT_LR_SCHEDULES = ['constant', 'cosine', 'cooldown'] as const;

export interface DistillConfig {
  /**
   * Where synthetic inputs come from: the trained conditional generator, or (an ablation and test
   * baseline) uniform noise in the data range with no generator training.
   */
  synthesis: 'generator' | 'noise';
  /** Outer rounds; the engine checkpoints after each. */
  rounds: number;
  /** Generator updates per round; each is one gradient query to every device. */
  generatorSteps: number;
  /** Student updates per round, drawn from the replay buffer (no device traffic). */
  studentSteps: number;
  /** Synthetic samples per query. */
  batchSize: number;
  studentBatchSize: number;
  tau: number;
  aggregation: string;
  trim?: number;
  /**
   * The temperature at which the devices' answers are combined (absent: τ). The combined distribution is then
   * re-expressed at τ (retemperRows), so the student's targets keep the ensemble's ranking at this temperature.
   * Class-weighted votes combine log-probabilities, whose ranking depends on the temperature: at τ = 4 the
   * Fashion-MNIST ensemble decides differently on many synthetic samples (most often for "bag") and is 0.7
   * points less accurate on real test images than at 1 (88.72% against 89.44%, seed 2).
   */
  voteTau?: number;
  /** Device-side loss weights (CE, batch-norm statistics, adversarial disagreement). */
  device: DeviceLossWeights;
  /**
   * Share of each device's CE weight that does not depend on its label histogram (ceSampleWeights): 0 lets
   * only the devices that saw a sample's requested class pull it toward that class; f > 0 gives every device
   * at least f / devices, so teachers that never saw the class are also told "not yours".
   */
  ceFloor: number;
  /**
   * Whose cross-entropy the generator lowers: `devices`, each device's own CE on the requested labels, weighted
   * by its share of the class (and ceFloor); `ensemble`, the CE of the fleet's class-weighted vote at
   * temperature 1, each device computing its part of the gradient (ensembleCeWeights). `ensemble` costs a
   * logits query before every gradient query: two round trips per generator step, and the inputs go down twice.
   */
  generatorCe: 'devices' | 'ensemble';
  /**
   * Share of each query batch the generator draws for a two-class soft target (label-mix.ts; 0: off): such a
   * sample keeps λ in [0.5, 1) of its requested class and gives the rest to another, and every device's CE
   * term becomes the soft-target CE (GradientQuery.classWeights). Not with generatorCe 'ensemble'.
   */
  labelMix: number;
  /**
   * How each device weighs the samples in its batch-norm term: `batch`, all alike (DeepInversion); `own`, by
   * its own count of each sample's requested class, so a label-skewed teacher's running statistics are matched
   * by a batch with its own class mix and it has no say over classes it never saw (see BnClassMix).
   */
  bnClassMix: BnClassMix;
  /** Multiplier of the devices' first BN layer within the BN term (DeepInversion's reference code uses 10). */
  bnFirstLayer: number;
  /**
   * Focusing exponent γ of the devices' CE term (GradientQuery.ceFocal; 0: plain CE): each sample's CE is
   * weighted by (1 − p_y)^γ with the device's own probability p_y of the requested class, so the generator
   * stops sharpening samples a teacher already calls y and keeps drawing ones it is unsure of — Co-Boosting's
   * hard-sample loss (ICLR 2024), computed on each device. No extra traffic but the number.
   */
  ceFocal: number;
  /**
   * SmoothGrad on the devices (GradientQuery.smoothGrad; sigma 0: off): each device evaluates its CE and
   * adversarial terms at `samples` copies of every query input with Gaussian noise of `sigma` added, so the
   * generator follows the teachers' gradients smoothed at that scale — the smoother, more image-like input
   * gradients of noise-trained teachers, without retraining the teachers or costing them accuracy. Every
   * device gets the same noise (one seed per query, drawn from the round's stream). Costs each device
   * 1 + samples forward and backward passes per query instead of 1; no extra bytes but the seed.
   */
  smoothGrad: { sigma: number; samples: number };
  /** Weight of the disagreement term through the student, computed on the coordinator. */
  coordinatorAdv: number;
  /** Weight of mode-seeking diversity. */
  diversity: number;
  /**
   * DeepInversion-style image priors on the generated images, computed on the coordinator and added to the
   * generator's loss: `tv` · mean absolute difference between neighbouring pixels (anisotropic total
   * variation, per pixel pair) and `l2` · mean squared pixel value. Both are per-pixel means, so a weight of 1
   * is on the scale of the devices' cross-entropy. Only image generators (rank-4 samples) get `tv`.
   */
  imagePrior: { tv: number; l2: number };
  /**
   * Random circular shift of up to `shift` pixels per axis, and a left-right flip when `flip`, drawn once per
   * query batch and applied to the generated images before the devices see them (see jitter.ts). Images only.
   */
  jitter: JitterSettings;
  /**
   * Side in pixels of the square each query image gets zeroed, at its own random place, after the jitter
   * (cutout.ts; 0: off). Images only; the devices label, and the replay buffer keeps, the occluded images.
   */
  cutout: number;
  /**
   * Largest relative change of scale of the random zoom each query image gets, about its centre, before the
   * jitter (zoom.ts): scales log-uniform in [1 / (1 + zoom), 1 + zoom], drawn per sample (0: off). Images only;
   * the devices label, and the replay buffer keeps, the zoomed images.
   */
  zoom: number;
  /**
   * The same shift and flip drawn per sample and applied to every replayed batch before a student step; the
   * sample's stored soft label is kept (see jitter.ts). No device traffic. Images only.
   */
  studentJitter: JitterSettings;
  /**
   * After each round's generator steps, `batches` logits-only queries on mixtures of replayed samples
   * (optionally shifted and flipped per sample), whose aggregated labels join the replay buffer (relabel.ts).
   */
  relabel: RelabelSettings;
  /**
   * History repulsion (CMI-style coverage, see losses.ts historyRepulsion): `weight` · the repulsion between
   * the student's penultimate features of each generated batch and those of `bank` samples drawn from the
   * replay buffer, at temperature `temperature`. Coordinator-side, no device traffic; 0 turns it off.
   */
  historyContrast: { weight: number; bank: number; temperature: number };
  /**
   * Procedural silhouettes (shared/distill/procedural.ts, procedural-pool.ts): `pool` images drawn from no
   * data, which the devices draw from seeds and label once in logits queries at the start of the run, kept in a
   * pool of their own; `share` of every student batch is drawn from that pool (class-balanced by `balance`) and
   * the rest from the replay buffer. They cover input space the generator leaves
   * empty. Single-channel images only; pool 0: off.
   */
  procedural: ProceduralSettings;
  /** Rounds before the adversarial terms switch on (the generator first learns to draw the classes). */
  warmupRounds: number;
  generatorLr: number;
  /**
   * Every this many rounds (0: never), the generator and its optimizer start afresh (new weights seeded from
   * the run's seed and round) while the student and the replay buffer carry on: each restart sends the
   * generator along a new path through input space (the idea behind CMI's and NAYER's re-initialised
   * synthesis). The adversarial terms stay on; warmupRounds counts from the run's start only.
   */
  generatorRestart: number;
  /**
   * Independent generators trained side by side (1: one). Each sample of a query batch is drawn by the branch
   * its noise picks, so every generator gets every step's update from its share of the batch: the same bytes
   * and queries, several paths through input space at once instead of one after another (generatorRestart).
   * Each costs a full generator pass per step on the coordinator.
   */
  generators: number;
  studentLr: number;
  /**
   * The student's learning rate over the run (a function of the round and step, so resumed runs match):
   * `constant`; `cosine`, decay from studentLr at the first student step to 1% of it at the last; `cooldown`,
   * studentLr until the last `studentCooldownRounds` rounds, then the same cosine decay over their steps
   * (warmup-stable-decay without the warmup): the student learns at full rate while the generator explores and
   * settles on the transfer set it has at the end, instead of publishing one point of a constant rate's swings.
   * A finished run extended by raising `rounds` goes back to studentLr for the rounds before its new cooldown.
   */
  studentLrSchedule: (typeof STUDENT_LR_SCHEDULES)[number];
  /** Rounds at the end of the run over which `cooldown` decays the student's rate (1..rounds). */
  studentCooldownRounds: number;
  /**
   * Decay per student step of an exponential moving average of the student's weights (0: off). When on, the
   * average is what each round evaluates and what the run exports; the student itself keeps training and is
   * the one the generator's adversarial terms play against.
   */
  studentEma: number;
  /**
   * When the weight average takes the student's weights: after every student `step`, or once a `round`, after
   * its student steps. Per round the decay at round r is min(studentEma, (r − 1) / r): until 1 / (1 − studentEma)
   * rounds have passed the average is the plain mean of every round's student so far (SWA's running mean), then
   * an exponential one, so the student's random start never weighs in and early rounds publish a fair average.
   */
  studentEmaEvery: 'step' | 'round';
  /**
   * Weight of per-teacher heads beside the student's own (0: off; Hydra, Tran et al. 2020): a coordinator-side
   * dense layer on the student's penultimate features with one head per device, each learning that device's
   * own answer restricted to the classes it holds (KL at τ), so the features learn from every teacher's view,
   * not only from their vote. The heads are never published; the student's output layer stays the vote's.
   * The replay buffer then keeps each sample's per-device answers too (devices × classes numbers a sample).
   */
  teacherHeads: number;
  /**
   * Class-balanced student batches (ReplayBuffer.classBalancedSampler): each replayed sample is drawn with
   * probability ∝ count(its top class)^(−studentBalance); 0 draws uniformly, 1 gives every class the ensemble
   * labels an equal share. The generator is asked for balanced classes but the ensemble does not answer so:
   * on Fashion-MNIST a third of the buffer is labelled "bag" and about one sample in a hundred "sneaker".
   */
  studentBalance: number;
  /**
   * Generator requests that favour the classes the buffer lacks (label-requests.ts): each round asks for class c
   * with share ∝ (buffered samples whose top class is c + 1)^(−requestBalance); 0 asks for every class alike.
   * Unlike studentBalance, which repeats the few samples of a scarce class, this draws new ones.
   */
  requestBalance: number;
  replayCapacity: number;
  zDim: number;
  generatorWidth?: number;
  /**
   * Image generators draw at 1/generatorUpsample of the resolution and enlarge by bilinear interpolation
   * (generator.ts): 1 draws at full resolution, 2 leaves out the last transposed convolution.
   */
  generatorUpsample: number;
  /**
   * Image generators draw each image as this many soft shapes (shape-generator.ts: rotated superellipses with
   * shading and opacity, painted over one another on black) instead of with transposed convolutions; 0: the
   * convolutional generator. Single-channel images at generatorUpsample 1 only.
   */
  generatorShapes: number;
  /**
   * With generatorShapes: about half of the samples (those whose last noise entry is positive) are drawn
   * left-right symmetric, each shape painted together with its reflection about the frame's vertical midline (most
   * pictured objects are symmetric, shoes seen from the side are not).
   */
  generatorShapesMirror: boolean;
  /**
   * Forward-difference settings for black-box devices. `seeded` (default true) sends each query's inputs
   * once with a seed and lets the device expand the 1 + directions probes (shared/distill/probes.ts);
   * false sends every probe, for devices that answer plain logits queries only.
   */
  zerothOrder: { directions: number; mu: number; seeded: boolean };
}

export const DEFAULT_DISTILL: DistillConfig = {
  synthesis: 'generator',
  rounds: 20,
  generatorSteps: 10,
  studentSteps: 150,
  batchSize: 128,
  studentBatchSize: 128,
  tau: 4,
  aggregation: 'class-weighted',
  // The BN-statistics term is off by default: in label-skewed fleets each teacher's running statistics describe
  // its own skewed data, and matching all of them at once distorted the samples (digits-dir0.5, 10 rounds:
  // student 66% with bn = 1, 88% with bn = 0). It helps when teachers saw similar data; set device.bn then.
  device: { ce: 1, bn: 0, adv: 0.5 },
  ceFloor: 0,
  generatorCe: 'devices',
  labelMix: 0,
  bnClassMix: 'batch',
  bnFirstLayer: 1,
  ceFocal: 0,
  smoothGrad: { sigma: 0, samples: 1 },
  coordinatorAdv: 0.5,
  diversity: 5,
  imagePrior: { tv: 0, l2: 0 },
  jitter: { shift: 0, flip: false },
  cutout: 0,
  zoom: 0,
  studentJitter: { shift: 0, flip: false },
  relabel: NO_RELABEL,
  historyContrast: { weight: 0, bank: 256, temperature: 0.1 },
  procedural: { pool: 0, share: 0.5, mirror: 0.5, upright: 0.5, texture: 0, fill: 0, balance: 0 },
  warmupRounds: 2,
  generatorLr: 0.05,
  generatorRestart: 0,
  generators: 1,
  studentLr: 3e-3,
  studentLrSchedule: 'constant',
  studentCooldownRounds: 10,
  studentEma: 0,
  studentEmaEvery: 'step',
  teacherHeads: 0,
  studentBalance: 0,
  requestBalance: 0,
  replayCapacity: 20000,
  zDim: 64,
  generatorUpsample: 1,
  generatorShapes: 0,
  generatorShapesMirror: false,
  zerothOrder: { directions: 8, mu: 0.005, seeded: true },
};

/** Settings without a default value: absent means "derived from another setting". */
const OPTIONAL_SETTINGS = ['trim', 'generatorWidth', 'voteTau'];

/** Merges user settings over the defaults; throws naming the first bad field (prefixed with `path`). */
export function parseDistillConfig(raw: unknown, path = 'distill'): DistillConfig {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) throw new Error(`${path}: must be an object`);
  const r = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!(key in DEFAULT_DISTILL) && !OPTIONAL_SETTINGS.includes(key)) throw new Error(`${path}.${key}: unknown setting; valid: ${[...Object.keys(DEFAULT_DISTILL), ...OPTIONAL_SETTINGS].join(', ')}`);
  }
  const c = { ...DEFAULT_DISTILL, ...r, device: { ...DEFAULT_DISTILL.device, ...(r.device as object) }, zerothOrder: { ...DEFAULT_DISTILL.zerothOrder, ...(r.zerothOrder as object) }, imagePrior: { ...DEFAULT_DISTILL.imagePrior, ...(r.imagePrior as object) }, jitter: { ...DEFAULT_DISTILL.jitter, ...(r.jitter as object) }, studentJitter: { ...DEFAULT_DISTILL.studentJitter, ...(r.studentJitter as object) }, relabel: { ...DEFAULT_DISTILL.relabel, ...(r.relabel as object) }, procedural: { ...DEFAULT_DISTILL.procedural, ...(r.procedural as object) }, historyContrast: { ...DEFAULT_DISTILL.historyContrast, ...(r.historyContrast as object) }, smoothGrad: { ...DEFAULT_DISTILL.smoothGrad, ...(r.smoothGrad as object) } } as DistillConfig;
  const posInt = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${path}.${name}: must be a positive integer, got ${JSON.stringify(v)}`);
  };
  const nonNeg = (v: number, name: string) => {
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw new Error(`${path}.${name}: must be a number >= 0, got ${JSON.stringify(v)}`);
  };
  const positive = (v: number, name: string) => {
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new Error(`${path}.${name}: must be a number > 0, got ${JSON.stringify(v)}`);
  };
  for (const k of ['rounds', 'generatorSteps', 'batchSize', 'studentBatchSize', 'replayCapacity', 'zDim'] as const) posInt(c[k], k);
  if (!Number.isInteger(c.studentSteps) || c.studentSteps < 0) throw new Error(`${path}.studentSteps: must be an integer >= 0, got ${c.studentSteps}`);
  if (!Number.isInteger(c.generatorRestart) || c.generatorRestart < 0) throw new Error(`${path}.generatorRestart: must be an integer >= 0 (rounds between generator restarts; 0: never), got ${JSON.stringify(c.generatorRestart)}`);
  if (!GENERATOR_UPSAMPLES.includes(c.generatorUpsample)) throw new Error(`${path}.generatorUpsample: must be one of ${GENERATOR_UPSAMPLES.join(', ')} (1: draw at full resolution), got ${JSON.stringify(c.generatorUpsample)}`);
  if (!Number.isInteger(c.generatorShapes) || c.generatorShapes < 0 || c.generatorShapes > MAX_SHAPES) throw new Error(`${path}.generatorShapes: must be an integer in 0..${MAX_SHAPES} (0: the convolutional generator), got ${JSON.stringify(c.generatorShapes)}`);
  if (typeof c.generatorShapesMirror !== 'boolean') throw new Error(`${path}.generatorShapesMirror: must be true or false, got ${JSON.stringify(c.generatorShapesMirror)}`);
  if (c.generatorShapesMirror && c.generatorShapes === 0) throw new Error(`${path}.generatorShapesMirror: mirrors the shape generator's samples; set generatorShapes too`);
  if (c.generatorShapes > 0 && c.generatorUpsample !== 1) throw new Error(`${path}.generatorShapes: the shape generator draws at full resolution; set generatorUpsample to 1`);
  if (!Number.isInteger(c.generators) || c.generators < 1 || c.generators > MAX_GENERATOR_BRANCHES || c.generators > c.zDim) throw new Error(`${path}.generators: must be an integer in 1..${MAX_GENERATOR_BRANCHES} and at most zDim (${c.zDim}), got ${JSON.stringify(c.generators)}`);
  if (!Number.isInteger(c.warmupRounds) || c.warmupRounds < 0) throw new Error(`${path}.warmupRounds: must be an integer >= 0, got ${c.warmupRounds}`);
  for (const k of ['tau', 'generatorLr', 'studentLr'] as const) positive(c[k], k);
  for (const k of ['coordinatorAdv', 'diversity', 'bnFirstLayer'] as const) nonNeg(c[k], k);
  if (typeof c.zoom !== 'number' || !(c.zoom >= 0 && c.zoom <= MAX_ZOOM)) throw new Error(`${path}.zoom: must be a number in 0..${MAX_ZOOM} (largest relative change of scale; 0: off), got ${JSON.stringify(c.zoom)}`);
  if (!Number.isInteger(c.cutout) || c.cutout < 0) throw new Error(`${path}.cutout: must be an integer >= 0 (side of the occluded square in pixels; 0: off), got ${JSON.stringify(c.cutout)}`);
  for (const [name, value] of [['device', r.device], ['zerothOrder', r.zerothOrder], ['imagePrior', r.imagePrior], ['jitter', r.jitter], ['studentJitter', r.studentJitter], ['relabel', r.relabel], ['procedural', r.procedural], ['historyContrast', r.historyContrast], ['smoothGrad', r.smoothGrad]] as const) {
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) throw new Error(`${path}.${name}: must be an object`);
  }
  for (const k of Object.keys(c.imagePrior)) if (k !== 'tv' && k !== 'l2') throw new Error(`${path}.imagePrior.${k}: unknown setting; valid: tv, l2`);
  for (const name of ['jitter', 'studentJitter', 'relabel'] as const) {
    const j = c[name];
    const valid = name === 'relabel' ? ['batches', 'mixup', 'shift', 'flip', 'adversarial', 'fromRound'] : ['shift', 'flip'];
    for (const k of Object.keys(j)) if (!valid.includes(k)) throw new Error(`${path}.${name}.${k}: unknown setting; valid: ${valid.join(', ')}`);
    if (!Number.isInteger(j.shift) || j.shift < 0) throw new Error(`${path}.${name}.shift: must be an integer >= 0 (pixels), got ${JSON.stringify(j.shift)}`);
    if (typeof j.flip !== 'boolean') throw new Error(`${path}.${name}.flip: must be true or false, got ${JSON.stringify(j.flip)}`);
  }
  if (!Number.isInteger(c.relabel.batches) || c.relabel.batches < 0) throw new Error(`${path}.relabel.batches: must be an integer >= 0, got ${JSON.stringify(c.relabel.batches)}`);
  nonNeg(c.relabel.adversarial, 'relabel.adversarial');
  posInt(c.relabel.fromRound, 'relabel.fromRound');
  if (typeof c.relabel.mixup !== 'boolean') throw new Error(`${path}.relabel.mixup: must be true or false, got ${JSON.stringify(c.relabel.mixup)}`);
  for (const k of Object.keys(c.historyContrast)) if (!(k in DEFAULT_DISTILL.historyContrast)) throw new Error(`${path}.historyContrast.${k}: unknown setting; valid: weight, bank, temperature`);
  for (const k of Object.keys(c.procedural)) if (!(k in DEFAULT_DISTILL.procedural)) throw new Error(`${path}.procedural.${k}: unknown setting; valid: ${Object.keys(DEFAULT_DISTILL.procedural).join(', ')}`);
  if (!Number.isInteger(c.procedural.pool) || c.procedural.pool < 0) throw new Error(`${path}.procedural.pool: must be an integer >= 0 (procedural images labelled at the start; 0: off), got ${JSON.stringify(c.procedural.pool)}`);
  const bad = badStyleProbability(c.procedural);
  if (bad) throw new Error(`${path}.procedural.${bad.key}: must be a probability in [0, 1] (${STYLE_MEANING[bad.key]}), got ${JSON.stringify(bad.value)}`);
  if (typeof c.procedural.balance !== 'number' || !(c.procedural.balance >= 0 && c.procedural.balance <= 1)) throw new Error(`${path}.procedural.balance: must be a number in [0, 1] (0: uniform draws from the pool, 1: every class the vote ranks first alike), got ${JSON.stringify(c.procedural.balance)}`);
  if (typeof c.procedural.share !== 'number' || !(c.procedural.share > 0 && c.procedural.share <= 1)) throw new Error(`${path}.procedural.share: must be a number in (0, 1] (share of each student batch drawn from the procedural pool), got ${JSON.stringify(c.procedural.share)}`);
  nonNeg(c.historyContrast.weight, 'historyContrast.weight');
  posInt(c.historyContrast.bank, 'historyContrast.bank');
  positive(c.historyContrast.temperature, 'historyContrast.temperature');
  for (const k of Object.keys(c.smoothGrad)) if (k !== 'sigma' && k !== 'samples') throw new Error(`${path}.smoothGrad.${k}: unknown setting; valid: sigma, samples`);
  nonNeg(c.smoothGrad.sigma, 'smoothGrad.sigma');
  if (!Number.isInteger(c.smoothGrad.samples) || c.smoothGrad.samples < 1 || c.smoothGrad.samples > MAX_SMOOTHGRAD_SAMPLES) throw new Error(`${path}.smoothGrad.samples: must be an integer in 1..${MAX_SMOOTHGRAD_SAMPLES} (noisy copies per query sample on each device), got ${JSON.stringify(c.smoothGrad.samples)}`);
  for (const k of ['ce', 'bn', 'adv'] as const) nonNeg(c.device[k], `device.${k}`);
  for (const k of ['tv', 'l2'] as const) nonNeg(c.imagePrior[k], `imagePrior.${k}`);
  for (const k of Object.keys(c.zerothOrder)) if (!(k in DEFAULT_DISTILL.zerothOrder)) throw new Error(`${path}.zerothOrder.${k}: unknown setting; valid: directions, mu, seeded`);
  posInt(c.zerothOrder.directions, 'zerothOrder.directions');
  positive(c.zerothOrder.mu, 'zerothOrder.mu');
  if (typeof c.zerothOrder.seeded !== 'boolean') throw new Error(`${path}.zerothOrder.seeded: must be true or false, got ${JSON.stringify(c.zerothOrder.seeded)}`);
  if (c.zerothOrder.seeded && c.zerothOrder.directions > MAX_PROBE_DIRECTIONS)
    throw new Error(`${path}.zerothOrder.directions: a device expands at most ${MAX_PROBE_DIRECTIONS} seeded directions per sample, got ${c.zerothOrder.directions} (or set zerothOrder.seeded false to send every probe)`);
  if (!BN_CLASS_MIXES.includes(c.bnClassMix)) throw new Error(`${path}.bnClassMix: must be one of ${BN_CLASS_MIXES.join(', ')}, got ${JSON.stringify(c.bnClassMix)}`);
  if (typeof c.ceFloor !== 'number' || !(c.ceFloor >= 0 && c.ceFloor <= 1)) throw new Error(`${path}.ceFloor: must be a number in [0, 1] (0: CE weight by class share only, 1: every device alike), got ${JSON.stringify(c.ceFloor)}`);
  if (typeof c.ceFocal !== 'number' || !(c.ceFocal >= 0 && c.ceFocal <= MAX_CE_FOCAL)) throw new Error(`${path}.ceFocal: must be a number in 0..${MAX_CE_FOCAL} (focusing exponent of the devices' CE; 0: plain CE), got ${JSON.stringify(c.ceFocal)}`);
  if (c.generatorCe !== 'devices' && c.generatorCe !== 'ensemble') throw new Error(`${path}.generatorCe: must be 'devices' or 'ensemble', got ${JSON.stringify(c.generatorCe)}`);
  if (typeof c.labelMix !== 'number' || !(c.labelMix >= 0 && c.labelMix <= 1)) throw new Error(`${path}.labelMix: must be a number in [0, 1] (share of each query batch drawn for two-class soft targets; 0: off), got ${JSON.stringify(c.labelMix)}`);
  if (c.labelMix > 0 && c.generatorCe === 'ensemble') throw new Error(`${path}.labelMix: cannot be combined with generatorCe 'ensemble' (its CE is on one requested class per sample); set one of them off`);
  if (c.voteTau !== undefined) positive(c.voteTau, 'voteTau');
  if (typeof c.studentBalance !== 'number' || !(c.studentBalance >= 0 && c.studentBalance <= 1)) throw new Error(`${path}.studentBalance: must be a number in [0, 1] (0: uniform draws, 1: every labelled class alike), got ${JSON.stringify(c.studentBalance)}`);
  if (typeof c.requestBalance !== 'number' || !(c.requestBalance >= 0 && c.requestBalance <= 1)) throw new Error(`${path}.requestBalance: must be a number in [0, 1] (0: every class asked alike, 1: in inverse proportion to the buffer's top classes), got ${JSON.stringify(c.requestBalance)}`);
  if (typeof c.studentEma !== 'number' || !(c.studentEma >= 0 && c.studentEma < 1)) throw new Error(`${path}.studentEma: must be a number in [0, 1) (0 turns the average off), got ${JSON.stringify(c.studentEma)}`);
  if (typeof c.teacherHeads !== 'number' || !(c.teacherHeads >= 0 && c.teacherHeads <= 10)) throw new Error(`${path}.teacherHeads: must be a number in 0..10 (weight of the per-teacher heads' loss; 0: off), got ${JSON.stringify(c.teacherHeads)}`);
  if (c.studentEmaEvery !== 'step' && c.studentEmaEvery !== 'round') throw new Error(`${path}.studentEmaEvery: must be 'step' or 'round', got ${JSON.stringify(c.studentEmaEvery)}`);
  if (!STUDENT_LR_SCHEDULES.includes(c.studentLrSchedule)) throw new Error(`${path}.studentLrSchedule: must be one of ${STUDENT_LR_SCHEDULES.join(', ')}, got ${JSON.stringify(c.studentLrSchedule)}`);
  if (!Number.isInteger(c.studentCooldownRounds) || c.studentCooldownRounds < 1 || (c.studentLrSchedule === 'cooldown' && c.studentCooldownRounds > c.rounds)) throw new Error(`${path}.studentCooldownRounds: must be an integer in 1..rounds (${c.rounds}), the last rounds over which 'cooldown' decays the student's rate, got ${JSON.stringify(c.studentCooldownRounds)}`);
  if (c.synthesis !== 'generator' && c.synthesis !== 'noise') throw new Error(`${path}.synthesis: must be 'generator' or 'noise', got ${JSON.stringify(c.synthesis)}`);
  if (!AGGREGATION_NAMES.includes(c.aggregation)) throw new Error(`${path}.aggregation: unknown strategy ${JSON.stringify(c.aggregation)}; use one of ${AGGREGATION_NAMES.join(', ')}`);
  return c;
}
