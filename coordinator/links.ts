/**
 * One link over several: the coordinator listens on ws and MQTT at once, and its transport should not
 * care which one a device uses. Frames to a device go out on the link it was last heard on (a frame or an
 * 'up' event), so a device that moves from ws to MQTT is followed. A device never heard from since start
 * is reached through the `fallback` link if one is set: an MQTT broker queues frames for persistent
 * sessions, which is how a restarted coordinator reaches devices that stayed connected to the broker.
 */
import { ClosedError } from '../shared/transport/errors.js';
import { Listeners, type FrameHandler, type Link, type LinkEvent } from '../shared/transport/link.js';

/** A link made of named links; `routes()` says which link each known device uses. */
export interface CombinedLink extends Link {
  routes(): Record<string, string>;
  /** Devices currently up on any link. */
  online(): string[];
}

/** Combines `links` (by name, e.g. {ws, mqtt}) into one link for one transport. */
export function combineLinks(localId: string, links: Record<string, Link>, opts: { fallback?: string } = {}): CombinedLink {
  const events = new Listeners<LinkEvent>();
  const route = new Map<string, string>();
  const up = new Set<string>();
  let handler: FrameHandler | undefined;

  const goUp = (name: string, peer: string) => {
    route.set(peer, name);
    if (!up.has(peer)) {
      up.add(peer);
      events.emit({ type: 'up', peer });
    }
  };
  const goDown = (name: string, peer: string, reason: string) => {
    if (route.get(peer) !== name) return; // it already moved to another link
    up.delete(peer);
    events.emit({ type: 'down', peer, reason: `${name}: ${reason}` });
  };

  for (const [name, link] of Object.entries(links)) {
    link.onFrame((frame, from) => {
      if (from !== undefined) goUp(name, from);
      return handler?.(frame, from);
    });
    link.onEvent((e) => {
      if (e.type === 'up') {
        if (e.peer !== undefined) goUp(name, e.peer);
      } else if (e.peer !== undefined) goDown(name, e.peer, e.reason);
      // The whole link went down: only the devices routed through it are affected, not the others.
      else for (const [peer, via] of route) if (via === name) goDown(name, peer, e.reason);
    });
  }

  return {
    localId,
    routes: () => Object.fromEntries(route),
    online: () => [...up],
    async send(to, frame) {
      const name = route.get(to) ?? opts.fallback;
      const link = name === undefined ? undefined : links[name];
      if (!link) throw new ClosedError(`no route to ${to}: it has not connected since the coordinator started`);
      await link.send(to, frame);
    },
    onFrame(h) {
      handler = h;
    },
    onEvent: (l) => events.add(l),
    async close() {
      await Promise.all(Object.values(links).map((l) => l.close()));
    },
  };
}
