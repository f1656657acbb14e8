/**
 * A link moves opaque frames between peer ids; it knows nothing about envelopes or keys. WebSocket, MQTT
 * and in-memory links implement it, and {@link createTransport} builds requests, deadlines and replies on
 * top once, so all three behave the same (and one contract suite tests them all).
 */

/** Receives one frame; `from` is the link-level source (a socket's or topic's claimed id). */
export type FrameHandler = (frame: Uint8Array, from: string | undefined) => void | Promise<void>;

/** Connectivity changes. `peer` undefined means the whole link (every peer behind it). */
export type LinkEvent = { type: 'up'; peer?: string } | { type: 'down'; peer?: string; reason: string };

/** The byte-level side of a transport. */
export interface Link {
  readonly localId: string;
  /** Resolves once the frame is handed to the network (ws) or acknowledged by the broker (MQTT QoS 1). */
  send(to: string, frame: Uint8Array): Promise<void>;
  /** Sets the single frame handler; its promise is awaited for inbound backpressure. */
  onFrame(handler: FrameHandler): void;
  onEvent(listener: (e: LinkEvent) => void): () => void;
  close(): Promise<void>;
}

/** A minimal listener set, so links need not extend EventEmitter (whose 'error' event throws if unheard). */
export class Listeners<E> {
  private readonly set = new Set<(e: E) => void>();
  add(listener: (e: E) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }
  emit(e: E): void {
    for (const l of [...this.set]) l(e);
  }
}
