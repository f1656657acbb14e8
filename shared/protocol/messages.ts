/**
 * Every message the coordinator and edge agents exchange, named "category.action". Each type's body
 * interface sits next to its entry in {@link CATALOG}, which holds the body's validator, its frame size
 * limit and whether the receiver must answer. Adding a type without a catalog entry fails to compile.
 */
import { checkWireTensor, type DType, type WireTensor } from './tensor.js';
import { arrayOf, bool, bytes, int, num, obj, oneOf, opt, recordOf, refine, str, type Check, type Shape } from './validate.js';
import { MAX_CE_FOCAL, MAX_SMOOTHGRAD_SAMPLES, type SmoothGradQuery } from '../distill/port.js';
import { MAX_PROBE_DIRECTIONS, type ProbeSpec } from '../distill/probes.js';
import { MAX_PROCEDURAL_PER_QUERY, STYLE_KEYS, type ProceduralSpec, type ProceduralStyle } from '../distill/procedural.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Hard ceiling for any frame, checked before parsing; per-type limits below are tighter. */
export const MAX_FRAME_BYTES = 64 * MiB;

/** Device, coordinator and fleet ids: safe as MQTT topic levels and URL query values. */
export const PEER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const peerId = str({ pattern: PEER_ID_PATTERN, max: 64 });

/** A procedural spec's style probabilities, each optional and in [0, 1]: one check per key of the style. */
const STYLE_CHECKS = Object.fromEntries(STYLE_KEYS.map((k) => [k, opt(num({ min: 0, max: 1 }))])) as Shape<Partial<ProceduralStyle>>;

/** enroll.request: a device asks to join. Its public keys travel in the signed header, not here. */
export interface EnrollRequestBody {
  /** One-time enrollment token; absent when the device waits for operator approval instead. */
  token?: string;
  platform?: string;
}
/** enroll.accept: the device is enrolled in `fleet`. */
export interface EnrollAcceptBody {
  deviceId: string;
  fleet: string;
}
/** enroll.pending: the key is recorded and waits for an operator to approve it. */
export interface EnrollPendingBody {
  reason: string;
}
/** Element type a device answers in: float16 halves the upload at half precision (~3 significant digits). */
export type ReplyDType = 'float32' | 'float16';
/**
 * round.query: synthetic inputs a device's teacher should label (TeacherPort.logits). The reply holds the
 * logits divided by `temperature`; the coordinator sends 1 and applies its own temperature when aggregating.
 * `deadlineMs` tells the device how long the coordinator waits, so it can drop work nobody will read.
 */
export interface RoundQueryBody {
  inputs: WireTensor;
  temperature: number;
  deadlineMs: number;
  /** Element type of the reply's tensors (default float32). */
  replyDtype?: ReplyDType;
  /**
   * Seeded finite-difference probes (shared/distill/probes.ts): answer for the inputs and for
   * directions × n probes around them that the device draws from the seed; the reply has
   * (1 + directions)·n rows, the inputs' first.
   */
  probes?: ProbeSpec;
  /**
   * Procedural images the device draws from the seed (shared/distill/procedural.ts) and answers for after the
   * inputs; the reply has n + count rows. Not with probes.
   */
  procedural?: ProceduralSpec;
}
/** round.reply: soft labels (logits) for the query's inputs, one row per input. */
export interface RoundReplyBody {
  logits: WireTensor;
}
/** Weights or values of the three device-side loss terms (see DeviceLossWeights in shared/distill/port.ts). */
export interface LossTerms {
  ce: number;
  bn: number;
  adv: number;
}
/**
 * gradient.query: TeacherPort.gradient over the wire: the input gradient of the device-side loss
 * ce·CE(T(x), y) + bn·BNstats(x) − adv·L1(softmax T(x), student probs), plus the logits at x.
 */
export interface GradientQueryBody {
  /** [n, ...inputShape]. */
  inputs: WireTensor;
  /** int32 [n]: the requested class of each input. */
  targets: WireTensor;
  /** [n]: per-sample weights of the CE term (this device's share of each class); default 1. */
  sampleWeights?: WireTensor;
  /** [n, numClasses]: per-sample, per-class CE weights (GradientQuery.classWeights); replaces sampleWeights in the CE term. */
  classWeights?: WireTensor;
  /** [n, numClasses]: the student's probabilities, for the adversarial term. */
  studentProbs?: WireTensor;
  weights: LossTerms;
  /** How the BN term weighs the samples (BnClassMix in shared/distill/port.ts); default 'batch'. */
  bnClassMix?: 'batch' | 'own' | 'class';
  /** Multiplier of the first BN layer's term within the BN term (GradientQuery.bnFirstLayer); default 1. */
  bnFirstLayer?: number;
  /** SmoothGrad noise for the CE and adversarial terms (GradientQuery.smoothGrad); absent: none. */
  smoothGrad?: SmoothGradQuery;
  /** Focusing exponent of the CE term, 0..MAX_CE_FOCAL (GradientQuery.ceFocal); absent: plain CE. */
  ceFocal?: number;
  deadlineMs: number;
  replyDtype?: ReplyDType;
}
/** gradient.reply: the teacher's logits at the inputs, dL/dx (the inputs' shape) and the loss terms' values. */
export interface GradientReplyBody {
  logits: WireTensor;
  inputGradient: WireTensor;
  loss: LossTerms;
}
/** capabilities.query: asks a device for a fresh capabilities.report. */
export type CapabilitiesQueryBody = Record<string, never>;
/**
 * capabilities.report: what a device's teacher can do (TeacherInfo in shared/distill/port.ts) and what the
 * device runs on. Sent in reply to capabilities.query, or unprompted when it changes (e.g. new local data).
 * The label histogram holds counts only, never samples.
 */
export interface CapabilitiesReportBody {
  numClasses: number;
  inputShape: number[];
  labelHistogram: number[];
  hasBatchNorm: boolean;
  /** False for a black-box teacher that answers logits only. */
  gradients: boolean;
  platform?: string;
  /** TF.js backend in use (tensorflow, wasm, cpu). */
  backend?: string;
  memoryMB?: number;
  /** The teacher's model spec as JSON text, for the operator's view of the fleet. */
  modelSpec?: string;
}
/** A named weight tensor of a published model. */
export interface NamedTensor {
  name: string;
  tensor: WireTensor;
}
/** model.publish: a student model, with a detached coordinator signature over its content. */
export interface ModelPublishBody {
  modelId: string;
  version: number;
  topology?: Uint8Array;
  tensors: NamedTensor[];
  /** Ed25519 signature by the coordinator over {@link modelSigningBytes}; checked before use. */
  signature: Uint8Array;
}
/** model.fetch: an agent asks for a model version (the latest without `version`); answered by model.publish. */
export interface ModelFetchBody {
  modelId: string;
  version?: number;
}
/** model.ack: the agent verified and stored the model. */
export interface ModelAckBody {
  modelId: string;
  version: number;
}
/** telemetry.report: numeric device metrics (battery, latency, accuracy...). */
export interface TelemetryReportBody {
  metrics: Record<string, number>;
}
/** health.ping / health.pong: liveness and round-trip measurement. */
export type HealthBody = Record<string, never>;
/** error: the answer of a peer that cannot answer. Failures travel as data; nobody goes silent. */
export interface ErrorBody {
  code: string;
  reason: string;
}

/** Body type of each message type. */
export interface Bodies {
  'enroll.request': EnrollRequestBody;
  'enroll.accept': EnrollAcceptBody;
  'enroll.pending': EnrollPendingBody;
  'round.query': RoundQueryBody;
  'round.reply': RoundReplyBody;
  'gradient.query': GradientQueryBody;
  'gradient.reply': GradientReplyBody;
  'capabilities.query': CapabilitiesQueryBody;
  'capabilities.report': CapabilitiesReportBody;
  'model.publish': ModelPublishBody;
  'model.fetch': ModelFetchBody;
  'model.ack': ModelAckBody;
  'telemetry.report': TelemetryReportBody;
  'health.ping': HealthBody;
  'health.pong': HealthBody;
  error: ErrorBody;
}

/** A message type name. */
export type MessageType = keyof Bodies;

/** Validation and limits for one message type. */
export interface MessageSpec<B> {
  check: Check<B>;
  /** Largest accepted frame (header, ciphertext and signature) for this type. */
  maxBytes: number;
  /** The receiver must reply (with an `error` body if it cannot answer). */
  expectsReply: boolean;
}

const empty = obj<HealthBody>({});
const modelId = str({ pattern: /^[A-Za-z0-9_.:-]{1,128}$/, max: 128 });
const FLOATS: readonly DType[] = ['float32', 'float16'];
/** Elements of one query's inputs (or input gradient): 4M float32 values are 16 MiB. */
const MAX_INPUT_ELEMENTS = 4 * 1024 * 1024;
/** Elements of per-sample or per-sample-per-class tensors (logits, labels, weights, probabilities). */
const MAX_ROW_ELEMENTS = 1024 * 1024;
const replyDtype = opt(oneOf(['float32', 'float16'] as const));
const lossTerms = (min: number) => obj<LossTerms>({ ce: num({ min }), bn: num({ min }), adv: num({ min }) });
const rows = (t: WireTensor | undefined) => t?.shape[0];

/** Seeded probes multiply the inputs a device evaluates by 1 + directions: hold that to the inputs' own limit. */
function roundQueryRule(q: RoundQueryBody, path: string): string | undefined {
  if (q.procedural && q.probes) return `${path}.procedural: cannot be combined with probes`;
  if (!q.probes) return undefined;
  const elements = q.inputs.shape.reduce((a, b) => a * b, 1) * (1 + q.probes.directions);
  if (elements > MAX_INPUT_ELEMENTS)
    return `${path}.probes.directions: ${q.probes.directions} directions expand the inputs to ${elements} values, more than the ${MAX_INPUT_ELEMENTS} a query may hold`;
  return undefined;
}

/** Cross-field rules of a gradient query: one label, weight and probability row per input. */
function gradientQueryRule(q: GradientQueryBody, path: string): string | undefined {
  const n = q.inputs.shape[0];
  if (q.inputs.shape.length < 2) return `${path}.inputs.shape: expected [batch, ...sample], got [${q.inputs.shape}]`;
  if (q.targets.shape.length !== 1 || q.targets.shape[0] !== n) return `${path}.targets.shape: expected [${n}] (one label per input), got [${q.targets.shape}]`;
  if (q.sampleWeights && (q.sampleWeights.shape.length !== 1 || rows(q.sampleWeights) !== n))
    return `${path}.sampleWeights.shape: expected [${n}], got [${q.sampleWeights.shape}]`;
  if (q.classWeights && (q.classWeights.shape.length !== 2 || rows(q.classWeights) !== n))
    return `${path}.classWeights.shape: expected [${n}, classes], got [${q.classWeights.shape}]`;
  if (q.studentProbs && (q.studentProbs.shape.length !== 2 || rows(q.studentProbs) !== n))
    return `${path}.studentProbs.shape: expected [${n}, classes], got [${q.studentProbs.shape}]`;
  return undefined;
}

/** Cross-field rules of a gradient reply: 2-D logits and a gradient row per logits row. */
function gradientReplyRule(r: GradientReplyBody, path: string): string | undefined {
  if (r.logits.shape.length !== 2) return `${path}.logits.shape: expected [batch, classes], got [${r.logits.shape}]`;
  if (rows(r.inputGradient) !== r.logits.shape[0]) return `${path}.inputGradient.shape: expected ${r.logits.shape[0]} rows like the logits, got [${r.inputGradient.shape}]`;
  return undefined;
}

/** The single table of message types. */
export const CATALOG: { [K in MessageType]: MessageSpec<Bodies[K]> } = {
  'enroll.request': {
    check: obj<EnrollRequestBody>({ token: opt(str({ max: 128 })), platform: opt(str({ max: 128 })) }),
    maxBytes: 4 * KiB,
    expectsReply: true,
  },
  'enroll.accept': { check: obj<EnrollAcceptBody>({ deviceId: peerId, fleet: peerId }), maxBytes: 4 * KiB, expectsReply: false },
  'enroll.pending': { check: obj<EnrollPendingBody>({ reason: str({ max: 512 }) }), maxBytes: 4 * KiB, expectsReply: false },
  'round.query': {
    check: refine(obj<RoundQueryBody>({
      inputs: checkWireTensor({ maxElements: MAX_INPUT_ELEMENTS, dtypes: FLOATS }),
      temperature: num({ min: 1e-3, max: 1e3 }),
      deadlineMs: int({ min: 1, max: 3_600_000 }),
      replyDtype,
      probes: opt(obj<ProbeSpec>({ directions: int({ min: 1, max: MAX_PROBE_DIRECTIONS }), mu: num({ min: 1e-9, max: 1e3 }), seed: int({ min: 0, max: 0xffffffff }) })),
      procedural: opt(obj<ProceduralSpec>({ seed: int({ min: 0, max: 0xffffffff }), count: int({ min: 1, max: MAX_PROCEDURAL_PER_QUERY }), ...STYLE_CHECKS })),
    }), roundQueryRule),
    maxBytes: 17 * MiB,
    expectsReply: true,
  },
  'round.reply': {
    // 1M float16 logits fit; the same count in float32 does not: soft labels should travel as float16.
    check: obj<RoundReplyBody>({ logits: checkWireTensor({ maxElements: MAX_ROW_ELEMENTS, dtypes: FLOATS }) }),
    maxBytes: 2 * MiB + 4 * KiB,
    expectsReply: false,
  },
  'gradient.query': {
    check: refine(
      obj<GradientQueryBody>({
        inputs: checkWireTensor({ maxElements: MAX_INPUT_ELEMENTS, dtypes: FLOATS }),
        targets: checkWireTensor({ maxElements: MAX_ROW_ELEMENTS, dtypes: ['int32'] }),
        sampleWeights: opt(checkWireTensor({ maxElements: MAX_ROW_ELEMENTS, dtypes: FLOATS })),
        classWeights: opt(checkWireTensor({ maxElements: MAX_ROW_ELEMENTS, dtypes: FLOATS })),
        studentProbs: opt(checkWireTensor({ maxElements: MAX_ROW_ELEMENTS, dtypes: FLOATS })),
        weights: lossTerms(0),
        bnClassMix: opt(oneOf(['batch', 'own', 'class'] as const)),
        bnFirstLayer: opt(num({ min: 0, max: 1000 })),
        smoothGrad: opt(obj<SmoothGradQuery>({ sigma: num({ min: 0, max: 1000 }), samples: int({ min: 1, max: MAX_SMOOTHGRAD_SAMPLES }), seed: int({ min: 0, max: 0xffffffff }) })),
        ceFocal: opt(num({ min: 0, max: MAX_CE_FOCAL })),
        deadlineMs: int({ min: 1, max: 3_600_000 }),
        replyDtype,
      }),
      gradientQueryRule,
    ),
    // float32 inputs (16 MiB) + labels and weights (8 MiB) + student probabilities (4 MiB) at their limits.
    maxBytes: 29 * MiB,
    expectsReply: true,
  },
  'gradient.reply': {
    check: refine(
      obj<GradientReplyBody>({
        logits: checkWireTensor({ maxElements: MAX_ROW_ELEMENTS, dtypes: FLOATS }),
        inputGradient: checkWireTensor({ maxElements: MAX_INPUT_ELEMENTS, dtypes: FLOATS }),
        // Loss values are logged, not trusted for anything; the adversarial term may be negative in total.
        loss: lossTerms(-Number.MAX_VALUE),
      }),
      gradientReplyRule,
    ),
    // float32 logits (4 MiB) and input gradient (16 MiB) at their limits.
    maxBytes: 20 * MiB + 4 * KiB,
    expectsReply: false,
  },
  'capabilities.query': { check: obj<CapabilitiesQueryBody>({}), maxBytes: 1 * KiB, expectsReply: true },
  'capabilities.report': {
    check: refine(
      obj<CapabilitiesReportBody>({
        numClasses: int({ min: 1, max: 1024 }),
        inputShape: arrayOf(int({ min: 1, max: 1 << 20 }), { min: 1, max: 7 }),
        labelHistogram: arrayOf(int({ min: 0 }), { max: 1024 }),
        hasBatchNorm: bool(),
        gradients: bool(),
        platform: opt(str({ max: 128 })),
        backend: opt(str({ max: 64 })),
        memoryMB: opt(num({ min: 0 })),
        modelSpec: opt(str({ max: 8192 })),
      }),
      (c, path) => (c.labelHistogram.length === c.numClasses ? undefined : `${path}.labelHistogram: expected ${c.numClasses} counts (one per class), got ${c.labelHistogram.length}`),
    ),
    maxBytes: 32 * KiB,
    expectsReply: false,
  },
  'model.publish': {
    check: obj<ModelPublishBody>({
      modelId,
      version: int({ min: 0 }),
      topology: opt(bytes({ max: 4 * MiB })),
      tensors: arrayOf(obj<NamedTensor>({ name: str({ max: 256 }), tensor: checkWireTensor({ maxElements: 15 * MiB }) }), {
        max: 4096,
      }),
      signature: bytes({ len: 64 }),
    }),
    maxBytes: MAX_FRAME_BYTES,
    expectsReply: true,
  },
  'model.fetch': { check: obj<ModelFetchBody>({ modelId, version: opt(int({ min: 0 })) }), maxBytes: 1 * KiB, expectsReply: true },
  'model.ack': { check: obj<ModelAckBody>({ modelId, version: int({ min: 0 }) }), maxBytes: 4 * KiB, expectsReply: false },
  'telemetry.report': {
    check: obj<TelemetryReportBody>({ metrics: recordOf(num(), { maxKeys: 256, keyPattern: /^[A-Za-z0-9_.:-]{1,64}$/ }) }),
    maxBytes: 64 * KiB,
    expectsReply: false,
  },
  'health.ping': { check: empty, maxBytes: 1 * KiB, expectsReply: true },
  'health.pong': { check: empty, maxBytes: 1 * KiB, expectsReply: false },
  error: {
    check: obj<ErrorBody>({ code: str({ max: 64, min: 1 }), reason: str({ max: 2048 }) }),
    maxBytes: 8 * KiB,
    expectsReply: false,
  },
};

/** All message type names, in catalog order. */
export const MESSAGE_TYPES = Object.keys(CATALOG) as MessageType[];

/** True if `type` names a message type this version understands. */
export function isMessageType(type: unknown): type is MessageType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(CATALOG, type);
}
