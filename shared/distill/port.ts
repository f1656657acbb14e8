/**
 * TeacherPort: the privacy boundary between the coordinator and one device's teacher.
 *
 * A device answers questions about inputs the coordinator sends it, and nothing else. The types below are
 * the complete vocabulary: inputs go down; logits, input gradients, loss values and (once) a label
 * histogram come up. There is deliberately no message that can carry model weights or local samples, so
 * the compiler rejects a port implementation that tries. The same types become protocol message bodies
 * when the port runs over ws/MQTT, and are what the in-memory simulation passes around.
 */
import type { ProceduralSpec } from './procedural.js';
import type { ProbeSpec } from './probes.js';

/** A dense float32 tensor as plain data: row-major values and their shape. */
export interface TensorData {
  shape: number[];
  values: Float32Array;
}

/** What a device says about itself at enrollment. */
export interface TeacherInfo {
  numClasses: number;
  /** Per-sample input shape the teacher expects. */
  inputShape: number[];
  /** How many local training samples of each class the device holds (counts only). */
  labelHistogram: number[];
  /** Whether the teacher has batch-norm layers, so a BN-statistics term is available. */
  hasBatchNorm: boolean;
  /** Whether the device can return input gradients (white-box teacher) or only logits (black box). */
  gradients: boolean;
}

/** Ask for the teacher's logits on a batch. */
export interface LogitsQuery {
  inputs: TensorData;
  /**
   * Seeded finite-difference probes (black-box devices, shared/distill/probes.ts): the device answers for x
   * and for x + mu·u_k, k = 1..directions, with the unit directions u drawn from the seed, so the reply has
   * (1 + directions)·n rows, x's first. Only a seed and two numbers cross the port, not the probes.
   */
  probes?: ProbeSpec;
  /**
   * Procedural images the device draws itself (shared/distill/procedural.ts): it answers for the inputs and
   * then for `count` images drawn from the seed, so the reply has n + count rows. Only a seed and a count
   * cross the port, not the images. Not with `probes`.
   */
  procedural?: ProceduralSpec;
}

export interface LogitsReply {
  /** [batch, numClasses]. */
  logits: TensorData;
}

/** Weights of the device-side loss terms whose input gradient is asked for. */
export interface DeviceLossWeights {
  /** Cross-entropy of the teacher on the requested labels (class-conditional fidelity). */
  ce: number;
  /** DeepInversion batch-norm statistics matching (ignored by teachers without BN). */
  bn: number;
  /** Teacher-student disagreement (DFAD/DENSE adversarial term); needs studentProbs. */
  adv: number;
}

/**
 * Ask for the input gradient of the device-side loss
 *   L = ce * (1/n) Σ_i w_i CE(T(x_i), y_i)  (or Σ_c a_ic CE(T(x_i), c), classWeights)  +  bn * BNstats(x)  −  adv * mean_i L1(softmax T(x_i), s_i)
 * The gradient is what a generator needs to move its samples toward what this teacher recognises as class
 * y_i, with realistic internal statistics, and where the student still disagrees with it.
 */
export interface GradientQuery {
  inputs: TensorData;
  /** Requested class of each sample. */
  targets: Int32Array;
  /**
   * Per-sample weights of the CE term, default 1. The coordinator sends each device its share of class y_i
   * (n_d,y / Σ_d' n_d',y), so that summed over devices every sample's CE is a convex combination.
   */
  sampleWeights?: Float32Array;
  /**
   * Per-sample, per-class weights a of the CE term, [batch, numClasses]. When present the CE term is
   * (1/n) Σ_i Σ_c a_ic · (−log softmax T(x_i)_c) and sampleWeights does not enter it; the hard-label CE is the
   * case a_ic = w_i · [c = y_i]. Weights may be negative. The coordinator uses them to hand each device its
   * part of the gradient of the whole ensemble's CE on the requested labels (see ensembleCeWeights), and for
   * soft targets, a_ic = (the device's class share) · t_ic (distill.labelMix, softTargetWeights).
   */
  classWeights?: TensorData;
  /** Student probabilities on the same batch, [batch, numClasses], for the adversarial term. */
  studentProbs?: TensorData;
  weights: DeviceLossWeights;
  /**
   * How the batch-norm term's batch statistics weigh the samples: `batch` (the default) each alike; `own` each
   * by the device's own count of its requested class, so that the weighted batch has the class mix the
   * teacher's running statistics were measured on (in label-skewed fleets a class-balanced batch does not).
   * The device reads the counts from its own label histogram; nothing more crosses the port. `class`: the
   * samples requested as each class c are compared with the device's own statistics of class c, measured on
   * its data (edge-agent/teacher/class-stats.ts), each class weighted by the CE term's sample weights, so a
   * device speaks for a class in proportion to its share of that class's samples.
   */
  bnClassMix?: BnClassMix;
  /**
   * Multiplier of the first BN layer's statistics within the BN term (default 1): DeepInversion's reference
   * code weighs the first layer, whose statistics describe local pixel structure, ten times the others.
   */
  bnFirstLayer?: number;
  /**
   * SmoothGrad on the device (Smilkov et al., 2017): the CE and adversarial terms are evaluated at `samples`
   * noisy copies x + sigma·ε_k and averaged, so dL/dx is the gradient of those terms smoothed by a Gaussian of
   * width sigma; the BN term and the returned logits stay at x. The teacher itself is unchanged (unlike training
   * it with input noise), so the soft labels keep its accuracy. Absent: no smoothing.
   */
  smoothGrad?: SmoothGradQuery;
  /**
   * Focusing exponent γ of the CE term (Lin et al.'s focal loss; the hard-sample loss of Co-Boosting, ICLR 2024):
   * each sample's CE is weighted by (1 − p_y)^γ, p_y the device's own probability of the requested class,
   * treated as a constant. The generator then stops pushing samples a teacher already calls y towards more
   * confidence, and keeps drawing ones it is unsure of. Absent or 0: plain CE.
   */
  ceFocal?: number;
}

/** Largest focusing exponent a device accepts. */
export const MAX_CE_FOCAL = 10;

export interface SmoothGradQuery {
  /** Standard deviation of the Gaussian input noise, in input units (pixels in [0, 1]). */
  sigma: number;
  /** Noisy copies per sample, 1..MAX_SMOOTHGRAD_SAMPLES; with 1 the generator's many steps do the averaging. */
  samples: number;
  /** Seeds ε (shared/random.ts seededRandom), so an answer is reproducible and every device sees the same noise. */
  seed: number;
}

/** Noisy copies a device computes at most per sample (bounds its memory: a query of n samples costs (1 + samples)·n forward passes). */
export const MAX_SMOOTHGRAD_SAMPLES = 16;

export const BN_CLASS_MIXES = ['batch', 'own', 'class'] as const;
export type BnClassMix = (typeof BN_CLASS_MIXES)[number];

export interface GradientReply {
  logits: TensorData;
  /** dL/dx, same shape as the inputs. */
  inputGradient: TensorData;
  /** The loss terms' values, for logging. */
  loss: { ce: number; bn: number; adv: number };
}

/** One device's teacher, as the coordinator sees it. */
export interface TeacherPort {
  readonly deviceId: string;
  info(): Promise<TeacherInfo>;
  logits(query: LogitsQuery): Promise<LogitsReply>;
  /** Rejects for black-box devices (info().gradients === false); use the zeroth-order adapter instead. */
  gradient(query: GradientQuery): Promise<GradientReply>;
}

/** Bytes a tensor occupies on the wire as float32 (the accounting unit before compression). */
export function tensorBytes(t: TensorData | undefined): number {
  return t ? t.values.byteLength + 4 * t.shape.length : 0;
}
