/**
 * Every message the coordinator and edge agents exchange, named "category.action". Each type's body
 * interface sits next to its entry in {@link CATALOG}, which holds the body's validator, its frame size
 * limit and whether the receiver must answer. Adding a type without a catalog entry fails to compile.
 */
import { checkWireTensor, type WireTensor } from './tensor.js';
import { arrayOf, bytes, int, num, obj, opt, recordOf, str, type Check } from './validate.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Hard ceiling for any frame, checked before parsing; per-type limits below are tighter. */
export const MAX_FRAME_BYTES = 64 * MiB;

/** Device, coordinator and fleet ids: safe as MQTT topic levels and URL query values. */
export const PEER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const peerId = str({ pattern: PEER_ID_PATTERN, max: 64 });

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
/** round.query: synthetic inputs a device's teacher should label at `temperature`. */
export interface RoundQueryBody {
  inputs: WireTensor;
  temperature: number;
  deadlineMs: number;
}
/** round.reply: soft labels (logits) for the query's inputs, one row per input. */
export interface RoundReplyBody {
  logits: WireTensor;
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
  'model.publish': ModelPublishBody;
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
    check: obj<RoundQueryBody>({
      inputs: checkWireTensor({ maxElements: 4 * 1024 * 1024 }),
      temperature: num({ min: 1e-3, max: 1e3 }),
      deadlineMs: int({ min: 1, max: 3_600_000 }),
    }),
    maxBytes: 17 * MiB,
    expectsReply: true,
  },
  'round.reply': {
    // 1M float16 logits fit; the same count in float32 does not: soft labels should travel as float16.
    check: obj<RoundReplyBody>({ logits: checkWireTensor({ maxElements: 1024 * 1024 }) }),
    maxBytes: 2 * MiB + 4 * KiB,
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
