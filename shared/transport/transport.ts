/**
 * Messages over a link: send, request with a deadline, handle incoming, close, connection events.
 * Written once for every link. A peer that cannot answer a request answers with an `error` body (no
 * handler, handler threw, handler returned nothing, or its frame was authentic but invalid): failures
 * travel as data and a requester never waits past its deadline.
 */
import type { FrameCodec } from '../protocol/codec.js';
import type { AnyEnvelope, Draft } from '../protocol/envelope.js';
import { consoleLogger, ProtocolError, type Logger, type RejectCode } from '../protocol/errors.js';
import { CATALOG } from '../protocol/messages.js';
import { ClosedError, TimeoutError } from './errors.js';
import { Listeners, type Link, type LinkEvent } from './link.js';

/** Answers an incoming message; return a draft to reply (required for types that expect a reply). */
export type Handler = (msg: AnyEnvelope) => Draft | void | Promise<Draft | void>;

/** Link events plus refused frames. */
export type TransportEvent = LinkEvent | { type: 'rejected'; from?: string; code: RejectCode; reason: string };

/** Options of {@link Transport.request}. */
export interface RequestOptions {
  /** Deadline in ms (default: the transport's, 10 s). */
  timeoutMs?: number;
}

/** The one interface the coordinator and agents use to talk. */
export interface Transport {
  readonly localId: string;
  /** Fire-and-forget. Rejects with ClosedError if the peer is not reachable now. */
  send(to: string, draft: Draft): Promise<void>;
  /** Sends and waits for the reply (which may be an `error` body); TimeoutError or ClosedError otherwise. */
  request(to: string, draft: Draft, opts?: RequestOptions): Promise<AnyEnvelope>;
  /** Sets the handler for incoming non-reply messages. */
  handle(handler: Handler): void;
  onEvent(listener: (e: TransportEvent) => void): () => void;
  /** Counters: late replies (after their deadline) and replies sent on a handler's behalf. */
  stats(): { lateReplies: number; errorReplies: number };
  /** Rejects pending requests with ClosedError and closes the link. */
  close(): Promise<void>;
}

/** Seal failures caused by the body itself (rather than by the peer), which the requester should hear about. */
const BODY_FAULTS = new Set(['bad_shape', 'too_large']);

interface Pending {
  to: string;
  resolve(msg: AnyEnvelope): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Builds a transport from a link and a codec (normally a SecureChannel). */
export function createTransport(link: Link, codec: FrameCodec, opts: { timeoutMs?: number; logger?: Logger } = {}): Transport {
  const defaultTimeout = opts.timeoutMs ?? 10_000;
  const logger = opts.logger ?? consoleLogger;
  const listeners = new Listeners<TransportEvent>();
  const pending = new Map<string, Pending>();
  const counters = { lateReplies: 0, errorReplies: 0 };
  let handler: Handler | undefined;
  let closed = false;

  const failPending = (peer: string | undefined, err: Error): void => {
    for (const [id, p] of pending) {
      if (peer !== undefined && p.to !== peer) continue;
      pending.delete(id);
      clearTimeout(p.timer);
      p.reject(err);
    }
  };

  const sendDraft = async (to: string, draft: Draft, replyTo?: string): Promise<string> => {
    if (closed) throw new ClosedError(`transport ${codec.localId} is closed`);
    const { id, frame } = codec.seal(to, draft, replyTo === undefined ? {} : { replyTo });
    await link.send(to, frame);
    return id;
  };

  const reply = async (msg: { sender: string; id: string }, draft: Draft): Promise<void> => {
    if (draft.type === 'error') counters.errorReplies++;
    try {
      await sendDraft(msg.sender, draft, msg.id);
    } catch (e) {
      if (closed) return;
      logger.warn(`distillery: could not reply to ${msg.sender}: ${(e as Error).message}`);
      // A handler's answer that fails validation still gets the requester an answer, not a timeout.
      if (e instanceof ProtocolError && BODY_FAULTS.has(e.code) && draft.type !== 'error')
        await reply(msg, { type: 'error', body: { code: 'bad_answer', reason: e.message.slice(0, 2000) } });
    }
  };

  const dispatch = async (msg: AnyEnvelope): Promise<void> => {
    const mustAnswer = CATALOG[msg.type].expectsReply;
    if (!handler) {
      if (mustAnswer) await reply(msg, { type: 'error', body: { code: 'unsupported', reason: `${codec.localId} has no handler for ${msg.type}` } });
      return;
    }
    let answer: Draft | void;
    try {
      answer = await handler(msg);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      logger.warn(`distillery: handler for ${msg.type} from ${msg.sender} failed: ${reason}`);
      if (mustAnswer) await reply(msg, { type: 'error', body: { code: 'handler_failed', reason: reason.slice(0, 2000) } });
      return;
    }
    if (answer) await reply(msg, answer);
    else if (mustAnswer) await reply(msg, { type: 'error', body: { code: 'no_answer', reason: `${codec.localId} produced no answer to ${msg.type}` } });
  };

  link.onFrame(async (frame, from) => {
    if (closed) return;
    const r = codec.open(frame, from);
    if (!r.ok) {
      listeners.emit({ type: 'rejected', from, code: r.error.code, reason: r.error.reason });
      // Only a proven sender gets an answer; replying to unauthenticated junk would make us an oracle.
      const auth = r.error.authenticated;
      if (auth && (CATALOG as Record<string, { expectsReply: boolean }>)[auth.type]?.expectsReply)
        await reply({ sender: auth.sender, id: auth.id }, { type: 'error', body: { code: r.error.code, reason: r.error.reason } });
      return;
    }
    const msg = r.value;
    if (msg.replyTo !== undefined) {
      const p = pending.get(msg.replyTo);
      if (p && p.to === msg.sender) {
        pending.delete(msg.replyTo);
        clearTimeout(p.timer);
        p.resolve(msg);
      } else counters.lateReplies++;
      return;
    }
    await dispatch(msg);
  });

  link.onEvent((e) => {
    if (e.type === 'down') failPending(e.peer, new ClosedError(`connection to ${e.peer ?? 'all peers'} lost: ${e.reason}`));
    listeners.emit(e);
  });

  return {
    localId: codec.localId,
    async send(to, draft) {
      await sendDraft(to, draft);
    },
    request(to, draft, ro = {}) {
      const timeoutMs = ro.timeoutMs ?? defaultTimeout;
      if (closed) return Promise.reject(new ClosedError(`transport ${codec.localId} is closed`));
      let sealed: { id: string; frame: Uint8Array };
      try {
        sealed = codec.seal(to, draft);
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise<AnyEnvelope>((resolve, reject) => {
        // Registered before sending: on loopback the reply can arrive before send() resolves.
        const timer = setTimeout(() => {
          pending.delete(sealed.id);
          reject(new TimeoutError(`${draft.type} to ${to} got no reply within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(sealed.id, { to, resolve, reject, timer });
        link.send(to, sealed.frame).catch((err: Error) => {
          if (!pending.delete(sealed.id)) return;
          clearTimeout(timer);
          reject(err);
        });
      });
    },
    handle(h) {
      handler = h;
    },
    onEvent: (l) => listeners.add(l),
    stats: () => ({ ...counters }),
    async close() {
      if (closed) return;
      closed = true;
      failPending(undefined, new ClosedError(`transport ${codec.localId} closed`));
      await link.close();
    },
  };
}
