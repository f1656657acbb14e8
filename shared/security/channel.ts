/**
 * The secure channel: seal = validate body, msgpack it, encrypt it with nacl.box for the recipient, then
 * sign header+ciphertext with Ed25519; open = the reverse, cheapest checks first. Signing the ciphertext
 * (not the plaintext) lets a receiver drop forged frames before decrypting, and the box is bound to the
 * sender's X25519 key, so a frame re-signed by someone else cannot be decrypted under the claimed sender.
 */
import nacl from 'tweetnacl';
import type { FrameCodec, CodecStats } from '../protocol/codec.js';
import { systemClock, type Clock } from '../protocol/clock.js';
import { checkHeader, PROTOCOL_VERSION, type AnyEnvelope, type Draft, type WireHeader } from '../protocol/envelope.js';
import { consoleLogger, ok, ProtocolError, reject, type Logger, type Rejection, type Result } from '../protocol/errors.js';
import { CATALOG, MAX_FRAME_BYTES, type MessageType } from '../protocol/messages.js';
import { packValue, unpackExact } from '../protocol/msgpack.js';
import { defaultEd25519, type Ed25519 } from './ed25519.js';
import { peerIdFor, type Identity, type PublicIdentity } from './keys.js';
import { verifyModel } from './model-signature.js';
import type { KeyDirectory } from './registry.js';
import { ReplayGuard, type ReplayOptions } from './replay.js';

const SIG = 64;
const CACHE_LIMIT = 4096;
/** Replies that may be sealed to a device that is not (yet) active: the answers to its enroll.request. */
const ENROLLEE_REPLIES: ReadonlySet<MessageType> = new Set(['enroll.accept', 'enroll.pending', 'error']);

/** Configuration of a {@link SecureChannel}. */
export interface SecureChannelOptions {
  identity: Identity;
  /** Peers whose keys we trust: the coordinator's registry, or an agent's pinned coordinator. */
  directory: KeyDirectory;
  /** Accept enroll.request from unknown devices (coordinator side only). */
  acceptEnrollment?: boolean;
  clock?: Clock;
  logger?: Logger;
  replay?: ReplayOptions;
  ed25519?: Ed25519;
}

/** Seals and opens frames for one identity. Holds replay state, so use one per process identity. */
export class SecureChannel implements FrameCodec {
  readonly localId: string;
  private readonly identity: Identity;
  private readonly directory: KeyDirectory;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly ed: Ed25519;
  private readonly replay: ReplayGuard;
  private readonly acceptEnrollment: boolean;
  private readonly sharedKeys = new Map<string, Uint8Array>();
  private readonly enrollees = new Map<string, PublicIdentity>();
  private readonly stats_: CodecStats = { accepted: 0, rejected: {} };
  private seq: number;
  private idCounter = 0;
  private readonly idPrefix = Buffer.from(nacl.randomBytes(6)).toString('base64url');

  constructor(opts: SecureChannelOptions) {
    this.identity = opts.identity;
    this.localId = opts.identity.id;
    this.directory = opts.directory;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? consoleLogger;
    this.ed = opts.ed25519 ?? defaultEd25519;
    this.replay = new ReplayGuard(opts.replay);
    this.acceptEnrollment = opts.acceptEnrollment ?? false;
    // Seeding the counter from the clock keeps it increasing across restarts, which receivers that
    // remember our last seq require; 1000 per ms leaves room for bursts without outrunning real time.
    this.seq = Math.floor(this.clock.now()) * 1000;
  }

  /** Accepted and rejected frame counts, by code. */
  stats(): CodecStats {
    return { accepted: this.stats_.accepted, rejected: { ...this.stats_.rejected } };
  }

  seal(to: string, draft: Draft, meta: { replyTo?: string } = {}): { id: string; frame: Uint8Array } {
    const peer = this.recipient(to, draft.type);
    const spec = CATALOG[draft.type];
    const checked = (spec.check as (v: unknown, p: string) => Result<unknown>)(draft.body, 'body');
    if (!checked.ok) throw new ProtocolError(checked.error.code, `seal ${draft.type}: ${checked.error.reason}`);
    const nonce = nacl.randomBytes(24);
    const ct = nacl.box.after(packValue(draft.body), nonce, this.sharedKey(peer.boxPublicKey));
    const id = `${this.idPrefix}${(this.idCounter++).toString(36)}`;
    const header: WireHeader = { v: PROTOCOL_VERSION, type: draft.type, id, sender: this.localId, to, ts: this.clock.now(), seq: ++this.seq, nonce, ct };
    if (meta.replyTo !== undefined) header.replyTo = meta.replyTo;
    if (draft.round !== undefined) header.round = draft.round;
    if (draft.type === 'enroll.request') header.keys = { sign: this.identity.sign.publicKey, box: this.identity.box.publicKey };
    const signed = packValue(header);
    const frame = new Uint8Array(SIG + signed.length);
    frame.set(this.ed.sign(signed, this.identity.sign.secretKey), 0);
    frame.set(signed, SIG);
    if (frame.length > spec.maxBytes)
      throw new ProtocolError('too_large', `seal ${draft.type}: frame of ${frame.length} bytes exceeds its limit of ${spec.maxBytes}`);
    return { id, frame };
  }

  open(frame: Uint8Array, from?: string): Result<AnyEnvelope> {
    const r = this.tryOpen(frame, from);
    if (r.ok) this.stats_.accepted++;
    else {
      this.stats_.rejected[r.error.code] = (this.stats_.rejected[r.error.code] ?? 0) + 1;
      this.logger.warn(`distillery: rejected frame: ${r.error.code}: ${r.error.reason}`, { code: r.error.code, from, bytes: frame.length });
    }
    return r;
  }

  private tryOpen(frame: Uint8Array, from?: string): Result<AnyEnvelope> {
    if (frame.length > MAX_FRAME_BYTES) return reject('too_large', `frame of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}`);
    if (frame.length <= SIG) return reject('malformed', `frame of ${frame.length} bytes is shorter than a signature`);
    const signed = frame.subarray(SIG);
    const parsed = unpackExact(signed);
    if (!parsed.ok) return parsed;
    const hr = checkHeader(parsed.value, frame.length);
    if (!hr.ok) return hr;
    const h = hr.value;
    if (h.to !== this.localId) return reject('wrong_recipient', `frame for ${h.to} arrived at ${this.localId}`);
    if (from !== undefined && from !== h.sender) return reject('sender_mismatch', `frame signed as ${h.sender} arrived from ${from}`);
    const keys = this.senderKeys(h);
    if (!keys.ok) return keys;
    const fresh = this.replay.check(h.sender, h.seq, h.ts, this.clock.now());
    if (!fresh.ok) return fresh;
    if (!this.ed.verify(signed, frame.subarray(0, SIG), keys.value.signPublicKey))
      return reject('bad_signature', `signature does not verify under ${h.sender}'s key`);
    // From here the sender is proven: record the frame, and let rejections say who to answer.
    this.replay.commit(h.sender, h.seq);
    if (h.keys) this.rememberEnrollee(keys.value);
    const proven = (e: { ok: false; error: Rejection }) => ({ ok: false as const, error: { ...e.error, authenticated: { sender: h.sender, id: h.id, type: h.type } } });
    const plain = nacl.box.open.after(h.ct, h.nonce, this.sharedKey(keys.value.boxPublicKey));
    if (!plain) return proven(reject('decrypt_failed', `body from ${h.sender} does not decrypt with our key`));
    const raw = unpackExact(plain);
    if (!raw.ok) return proven(raw);
    const body = (CATALOG[h.type].check as (v: unknown, p: string) => Result<unknown>)(raw.value, 'body');
    if (!body.ok) return proven(body);
    if (h.type === 'model.publish' && !verifyModel(body.value as never, keys.value.signPublicKey, this.ed))
      return proven(reject('bad_model_signature', `model signature from ${h.sender} does not verify`));
    const env = { v: PROTOCOL_VERSION, type: h.type, id: h.id, sender: h.sender, to: h.to, ts: h.ts, seq: h.seq, body: body.value } as AnyEnvelope;
    if (h.replyTo !== undefined) env.replyTo = h.replyTo;
    if (h.round !== undefined) env.round = h.round;
    if (h.keys !== undefined) env.keys = h.keys;
    return ok(env);
  }

  /** Which keys verify this sender: the directory's, or for enrollment the self-certified header keys. */
  private senderKeys(h: WireHeader): Result<PublicIdentity> {
    const record = this.directory.lookup(h.sender);
    if (record?.status === 'revoked') return reject('revoked_sender', `${h.sender} is revoked`);
    if (h.keys && this.acceptEnrollment) {
      if (peerIdFor(h.keys.sign) !== h.sender) return reject('bad_identity', `sender ${h.sender} is not the fingerprint of its signing key`);
      return ok({ id: h.sender, signPublicKey: h.keys.sign, boxPublicKey: h.keys.box });
    }
    if (!record) return reject('unknown_sender', `no key on record for ${h.sender}`);
    if (record.status !== 'active') return reject('not_enrolled', `${h.sender} is ${record.status}; only enroll.request is accepted`);
    return ok(record);
  }

  private recipient(to: string, type: MessageType): PublicIdentity {
    const record = this.directory.lookup(to);
    if (record?.status === 'active') return record;
    const enrollee = this.enrollees.get(to);
    if (enrollee && record?.status !== 'revoked' && ENROLLEE_REPLIES.has(type)) return enrollee;
    throw new ProtocolError(record ? `${record.status}_peer` : 'unknown_peer', `cannot seal ${type} for ${to}: ${record ? record.status : 'no key on record'}`);
  }

  private rememberEnrollee(p: PublicIdentity): void {
    if (this.enrollees.size >= CACHE_LIMIT) this.enrollees.delete(this.enrollees.keys().next().value as string);
    this.enrollees.set(p.id, p);
  }

  /** nacl.box.before costs ~0.7 ms; caching it per peer makes each box ~20x cheaper. */
  private sharedKey(peerBoxPublicKey: Uint8Array): Uint8Array {
    const k = Buffer.from(peerBoxPublicKey).toString('base64');
    let key = this.sharedKeys.get(k);
    if (!key) {
      if (this.sharedKeys.size >= CACHE_LIMIT) this.sharedKeys.clear();
      key = nacl.box.before(peerBoxPublicKey, this.identity.box.secretKey);
      this.sharedKeys.set(k, key);
    }
    return key;
  }
}
