/**
 * A FrameCodec wrapper that reports every frame sealed or opened: direction, peer, message type, size,
 * SHA-256 and time. Sitting at the codec, it sees exactly the bytes on the wire for every link (ws, MQTT,
 * in-memory), which is what the audit log and per-device byte counters need, without touching transports.
 */
import { createHash } from 'node:crypto';
import type { FrameCodec } from '../shared/protocol/codec.js';
import { systemClock, type Clock } from '../shared/protocol/clock.js';

/** One frame that crossed the codec. */
export interface FrameRecord {
  direction: 'in' | 'out';
  /** The peer: recipient of a sealed frame, link-level source of an opened one (if known). */
  peer: string | undefined;
  /** Message type, or `rejected:<code>` for a frame that did not open. */
  type: string;
  bytes: number;
  /** SHA-256 of the frame, hex. */
  sha256: string;
  ts: number;
  round?: number;
}

/** Wraps `codec`; `observe` is called synchronously for every frame (keep it cheap, or queue). */
export function observedCodec(codec: FrameCodec, observe: (r: FrameRecord) => void, clock: Clock = systemClock): FrameCodec {
  const hash = (frame: Uint8Array) => createHash('sha256').update(frame).digest('hex');
  return {
    localId: codec.localId,
    seal(to, draft, meta) {
      const sealed = codec.seal(to, draft, meta);
      const r: FrameRecord = { direction: 'out', peer: to, type: draft.type, bytes: sealed.frame.length, sha256: hash(sealed.frame), ts: clock.now() };
      if (draft.round !== undefined) r.round = draft.round;
      observe(r);
      return sealed;
    },
    open(frame, from) {
      const opened = codec.open(frame, from);
      const type = opened.ok ? opened.value.type : `rejected:${opened.error.code}`;
      const r: FrameRecord = { direction: 'in', peer: opened.ok ? opened.value.sender : from, type, bytes: frame.length, sha256: hash(frame), ts: clock.now() };
      if (opened.ok && opened.value.round !== undefined) r.round = opened.value.round;
      observe(r);
      return opened;
    },
  };
}

/** Per-peer byte and frame counters, fed by {@link observedCodec}. */
export class TrafficCounters {
  private readonly byPeer = new Map<string, { bytesIn: number; bytesOut: number; framesIn: number; framesOut: number }>();

  /** Counts one frame; use as (or inside) the observer. */
  add(r: FrameRecord): void {
    if (r.peer === undefined) return;
    let c = this.byPeer.get(r.peer);
    if (!c) this.byPeer.set(r.peer, (c = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 }));
    if (r.direction === 'in') {
      c.bytesIn += r.bytes;
      c.framesIn++;
    } else {
      c.bytesOut += r.bytes;
      c.framesOut++;
    }
  }

  /** Counters of one peer (zeros if never seen). */
  get(peer: string): { bytesIn: number; bytesOut: number; framesIn: number; framesOut: number } {
    return { ...(this.byPeer.get(peer) ?? { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 }) };
  }

  /** Forgets everything (between measurements). */
  reset(): void {
    this.byPeer.clear();
  }
}
