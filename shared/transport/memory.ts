/**
 * In-memory links for simulations and unit tests: a network object that routes frames between ids in
 * the same process. Delivery is asynchronous and FIFO (setImmediate), frames are copied, and a node can be
 * interrupted like a real connection, so a simulation exercises the same code paths as a deployment.
 */
import { MAX_FRAME_BYTES } from '../protocol/messages.js';
import { ProtocolError } from '../protocol/errors.js';
import { ClosedError } from './errors.js';
import { Listeners, type FrameHandler, type Link, type LinkEvent } from './link.js';

interface Node {
  up: boolean;
  handler?: FrameHandler;
  events: Listeners<LinkEvent>;
}

/** A set of in-memory links that can reach each other by id. */
export interface MemoryNetwork {
  /** Attaches a node; ids must be unique while attached. */
  connect(id: string): Link;
  /** Drops a node's connection now and restores it after `downMs` (default 50 ms), like a network blip. */
  interrupt(id: string, downMs?: number): void;
}

/** Creates an empty in-memory network. */
export function createMemoryNetwork(opts: { maxFrameBytes?: number } = {}): MemoryNetwork {
  const maxFrame = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
  const nodes = new Map<string, Node>();

  const broadcast = (except: string, e: LinkEvent): void => {
    for (const [id, n] of nodes) if (id !== except && n.up) n.events.emit(e);
  };

  return {
    connect(id) {
      if (nodes.has(id)) throw new ProtocolError('duplicate_id', `memory network: ${id} is already connected`);
      const self: Node = { up: true, events: new Listeners() };
      nodes.set(id, self);
      queueMicrotask(() => broadcast(id, { type: 'up', peer: id }));
      return {
        localId: id,
        async send(to, frame) {
          if (!self.up) throw new ClosedError(`${id} is disconnected`);
          if (frame.length > maxFrame) throw new ProtocolError('too_large', `frame of ${frame.length} bytes exceeds ${maxFrame}`);
          const peer = nodes.get(to);
          if (!peer?.up) throw new ClosedError(`no connection to ${to}`);
          const copy = frame.slice();
          setImmediate(() => {
            if (self.up && peer.up && nodes.get(to) === peer) void peer.handler?.(copy, id);
          });
        },
        onFrame(handler) {
          self.handler = handler;
        },
        onEvent: (l) => self.events.add(l),
        async close() {
          if (nodes.get(id) !== self) return;
          nodes.delete(id);
          self.up = false;
          broadcast(id, { type: 'down', peer: id, reason: 'closed' });
        },
      };
    },
    interrupt(id, downMs = 50) {
      const node = nodes.get(id);
      if (!node?.up) return;
      node.up = false;
      node.events.emit({ type: 'down', reason: 'interrupted' });
      broadcast(id, { type: 'down', peer: id, reason: 'interrupted' });
      setTimeout(() => {
        if (nodes.get(id) !== node) return;
        node.up = true;
        node.events.emit({ type: 'up' });
        broadcast(id, { type: 'up', peer: id });
      }, downMs);
    },
  };
}
