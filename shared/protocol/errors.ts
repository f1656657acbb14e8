/**
 * Failures as data. Decoding and verification never throw at the network boundary: they return a `Result`
 * whose error names a stable code (for counters and tests) and a human reason (for logs).
 */

/** Why an incoming frame was refused. Stable strings: they key counters and appear in logs. */
export const REJECT_CODES = [
  'malformed', // not a frame at all: random bytes, truncated msgpack, trailing garbage
  'bad_shape', // well-formed msgpack of the wrong shape (header or body)
  'unsupported_version',
  'unknown_type',
  'too_large',
  'unknown_sender',
  'revoked_sender',
  'not_enrolled',
  'bad_identity', // an enroll.request whose sender id does not match its public key
  'sender_mismatch', // link-level source differs from the signed sender
  'wrong_recipient',
  'stale', // timestamp outside the accepted window
  'replay', // sequence number already seen or older than the window
  'bad_signature',
  'decrypt_failed',
  'bad_model_signature',
] as const;

/** One of {@link REJECT_CODES}. */
export type RejectCode = (typeof REJECT_CODES)[number];

/** A refused frame. `authenticated` is set when the sender was proven, so a reply can be sealed to it. */
export interface Rejection {
  code: RejectCode;
  reason: string;
  authenticated?: { sender: string; id: string; type: string };
}

/** Success or failure as a value; `E` defaults to {@link Rejection}. */
export type Result<T, E = Rejection> = { ok: true; value: T } | { ok: false; error: E };

/** Wraps a value as a successful {@link Result}. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Builds a failed {@link Result}; the reason is truncated so a hostile frame cannot bloat logs. */
export function reject(code: RejectCode, reason: string): { ok: false; error: Rejection } {
  return { ok: false, error: { code, reason: reason.length > 300 ? `${reason.slice(0, 300)}…` : reason } };
}

/** Thrown for local misuse (bad arguments, sealing to an unknown peer); carries a code like the rejections. */
export class ProtocolError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

/** The logging the protocol needs; injected so tests can capture it and deployments can route it. */
export interface Logger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** Logs to stderr through console.warn. */
export const consoleLogger: Logger = {
  warn: (message, fields) => (fields ? console.warn(message, fields) : console.warn(message)),
};

/** Discards everything; for benchmarks. */
export const silentLogger: Logger = { warn: () => {} };
