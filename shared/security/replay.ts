/**
 * Replay protection: a per-sender sequence number plus a timestamp window. Sequence numbers are tracked
 * with a sliding window (as IPsec/DTLS do) rather than "strictly greater than the last", so a frame that
 * overtakes another in flight is still accepted once, while any frame seen before is refused. The time
 * window bounds what a receiver must remember: anything older is refused as stale without lookup.
 */
import { ok, reject, type Result } from '../protocol/errors.js';

/** Tuning for {@link ReplayGuard}. */
export interface ReplayOptions {
  /** Accept timestamps within ±windowMs of the receiver's clock (default 30 s). */
  windowMs?: number;
  /** How far behind the highest sequence number a late frame may arrive (default 1024). */
  seqWindow?: number;
  /** Senders remembered; the least recently active is forgotten first (default 100,000). */
  maxSenders?: number;
}

interface SenderState {
  max: number;
  seen: Set<number>;
}

/** Remembers what each sender has sent. `check` is pure; `commit` records, and only after the signature verified. */
export class ReplayGuard {
  private readonly windowMs: number;
  private readonly seqWindow: number;
  private readonly maxSenders: number;
  private readonly senders = new Map<string, SenderState>();

  constructor(opts: ReplayOptions = {}) {
    this.windowMs = opts.windowMs ?? 30_000;
    this.seqWindow = opts.seqWindow ?? 1024;
    this.maxSenders = opts.maxSenders ?? 100_000;
  }

  /** Would this (sender, seq, ts) be fresh at time `now`? Does not change state. */
  check(sender: string, seq: number, ts: number, now: number): Result<void> {
    if (Math.abs(ts - now) > this.windowMs)
      return reject('stale', `timestamp ${ts} is ${ts - now} ms from receiver time ${now}, outside ±${this.windowMs} ms`);
    const st = this.senders.get(sender);
    if (st) {
      if (seq <= st.max - this.seqWindow) return reject('replay', `seq ${seq} from ${sender} is older than the window (highest ${st.max})`);
      if (st.seen.has(seq)) return reject('replay', `seq ${seq} from ${sender} was already accepted`);
    }
    return ok(undefined);
  }

  /** Records an accepted frame. */
  commit(sender: string, seq: number): void {
    let st = this.senders.get(sender);
    if (st) this.senders.delete(sender); // re-insert below: Map order doubles as least-recently-used order
    else st = { max: seq, seen: new Set() };
    st.seen.add(seq);
    if (seq > st.max) st.max = seq;
    if (st.seen.size > 2 * this.seqWindow) for (const s of st.seen) if (s <= st.max - this.seqWindow) st.seen.delete(s);
    this.senders.set(sender, st);
    if (this.senders.size > this.maxSenders) this.senders.delete(this.senders.keys().next().value as string);
  }

  /** Forgets a sender (e.g. after revocation). */
  forget(sender: string): void {
    this.senders.delete(sender);
  }
}
