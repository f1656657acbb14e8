/**
 * The seam between transports and security: transports move opaque frames and correlate replies; a codec
 * turns drafts into frames for one peer and frames back into verified envelopes. The secure channel in
 * shared/security is the implementation every deployment uses.
 */
import type { AnyEnvelope, Draft } from './envelope.js';
import type { RejectCode, Result } from './errors.js';

/** Turns messages into frames and back. Sealing throws on local misuse; opening never throws. */
export interface FrameCodec {
  /** This peer's id, used as the sender of everything it seals. */
  readonly localId: string;
  /** Seals a draft for `to`; returns the frame and the message id it was given. */
  seal(to: string, draft: Draft, meta?: { replyTo?: string }): { id: string; frame: Uint8Array };
  /** Opens a frame that arrived from link-level source `from` (when the link knows it). */
  open(frame: Uint8Array, from?: string): Result<AnyEnvelope>;
}

/** Counts of accepted and rejected frames, by rejection code. */
export interface CodecStats {
  accepted: number;
  rejected: Partial<Record<RejectCode, number>>;
}
