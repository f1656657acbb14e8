/**
 * The versioned envelope. Applications see {@link Envelope}: header fields plus a typed body. On the wire
 * a frame is `signature(64) || msgpack(WireHeader)`, where the header stays readable (so routers and size
 * limits work without keys) and the body is encrypted into `ct`. See docs/protocol.md.
 */
import { reject, ok, type Result } from './errors.js';
import { CATALOG, PEER_ID_PATTERN, isMessageType, type Bodies, type MessageType } from './messages.js';
import { bytes, int, obj, opt, str, type Check } from './validate.js';

/** The protocol version this code speaks. Frames with any other `v` are refused as unsupported_version. */
export const PROTOCOL_VERSION = 1;

/** A verified, decrypted, validated message. */
export interface Envelope<K extends MessageType = MessageType> {
  v: typeof PROTOCOL_VERSION;
  type: K;
  /** Unique per sender; replies point at it with `replyTo`. */
  id: string;
  replyTo?: string;
  /** Federated round this message belongs to, when it belongs to one. */
  round?: number;
  sender: string;
  to: string;
  /** Sender's clock, ms since epoch; checked against the receiver's window. */
  ts: number;
  /** Per-sender monotonic counter; replays and duplicates are refused. */
  seq: number;
  /** The sender's self-certified public keys; present only on enroll.request. */
  keys?: EnrollKeys;
  body: Bodies[K];
}

/** Envelope narrowed by its type, so `switch (msg.type)` narrows `msg.body`. */
export type AnyEnvelope = { [K in MessageType]: Envelope<K> }[MessageType];

/** What an application hands to a transport; the channel fills in the rest of the header. */
export type Draft = { [K in MessageType]: { type: K; body: Bodies[K]; round?: number } }[MessageType];

/** Public keys an enrolling device sends in clear, since the coordinator has no record of it yet. */
export interface EnrollKeys {
  sign: Uint8Array;
  box: Uint8Array;
}

/** The signed, cleartext part of a frame. */
export interface WireHeader {
  v: number;
  type: MessageType;
  id: string;
  replyTo?: string;
  round?: number;
  sender: string;
  to: string;
  ts: number;
  seq: number;
  nonce: Uint8Array;
  ct: Uint8Array;
  keys?: EnrollKeys;
}

const MESSAGE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const peer = str({ pattern: PEER_ID_PATTERN, max: 64 });

const headerShape: Check<WireHeader> = obj<WireHeader>({
  v: int(),
  type: (value, path) => (isMessageType(value) ? ok(value) : reject('unknown_type', `${path}: unknown message type ${String(value).slice(0, 64)}`)),
  id: str({ pattern: MESSAGE_ID, max: 64 }),
  replyTo: opt(str({ pattern: MESSAGE_ID, max: 64 })),
  round: opt(int({ min: 0 })),
  sender: peer,
  to: peer,
  ts: int({ min: 0 }),
  seq: int({ min: 0 }),
  nonce: bytes({ len: 24 }),
  ct: bytes(),
  keys: opt(obj<EnrollKeys>({ sign: bytes({ len: 32 }), box: bytes({ len: 32 }) })),
});

/**
 * Validates a decoded header. The version is checked first so a newer or older peer gets a precise
 * reason; then the per-type size limit, before any cryptography runs.
 */
export function checkHeader(value: unknown, frameBytes: number): Result<WireHeader> {
  if (typeof value === 'object' && value !== null && 'v' in value && (value as { v: unknown }).v !== PROTOCOL_VERSION)
    return reject('unsupported_version', `header.v: this peer speaks version ${PROTOCOL_VERSION}, got ${String((value as { v: unknown }).v).slice(0, 20)}`);
  const r = headerShape(value, 'header');
  if (!r.ok) return r;
  const h = r.value;
  if (h.ct.length < 16) return reject('bad_shape', `header.ct: expected at least 16 bytes, got ${h.ct.length}`);
  const limit = CATALOG[h.type].maxBytes;
  if (frameBytes > limit) return reject('too_large', `${h.type} frame of ${frameBytes} bytes exceeds its limit of ${limit}`);
  if ((h.keys !== undefined) !== (h.type === 'enroll.request'))
    return reject('bad_shape', 'header.keys: present exactly on enroll.request');
  return ok(h);
}
