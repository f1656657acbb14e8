/**
 * MQTT topic layout (documented in docs/protocol.md):
 *   {root}/{fleet}/{device}/in      coordinator -> device frames (the device subscribes)
 *   {root}/{fleet}/{device}/out     device -> coordinator frames (the coordinator subscribes with +)
 *   {root}/{fleet}/{device}/status  "online" on connect, "offline" as the device's last will
 * Per-device topics (no fleet-wide broadcast) because every body is sealed to one recipient's key, and a
 * broker ACL can then confine each device to its own three topics.
 */
import { ProtocolError } from '../protocol/errors.js';
import { PEER_ID_PATTERN } from '../protocol/messages.js';

/** Default first topic level. */
export const DEFAULT_ROOT = 'distillery';

/** Topic names for one fleet. */
export interface TopicLayout {
  inbox(device: string): string;
  outbox(device: string): string;
  status(device: string): string;
  /** Wildcard filters the coordinator subscribes to. */
  allOutboxes: string;
  allStatus: string;
  /** The device id and topic kind, or undefined for a topic outside the layout. */
  parse(topic: string): { device: string; kind: 'in' | 'out' | 'status' } | undefined;
}

/** Builds the layout; ids are checked so a '+', '#' or '/' can never widen a subscription. */
export function topicLayout(fleet: string, root = DEFAULT_ROOT): TopicLayout {
  for (const [what, v] of [['fleet', fleet], ['root', root]] as const)
    if (!PEER_ID_PATTERN.test(v)) throw new ProtocolError('bad_argument', `topicLayout: ${what} ${JSON.stringify(v)} must match ${PEER_ID_PATTERN}`);
  const device = (id: string): string => {
    if (!PEER_ID_PATTERN.test(id)) throw new ProtocolError('bad_argument', `topic device id ${JSON.stringify(id)} must match ${PEER_ID_PATTERN}`);
    return `${root}/${fleet}/${id}`;
  };
  return {
    inbox: (id) => `${device(id)}/in`,
    outbox: (id) => `${device(id)}/out`,
    status: (id) => `${device(id)}/status`,
    allOutboxes: `${root}/${fleet}/+/out`,
    allStatus: `${root}/${fleet}/+/status`,
    parse(topic) {
      const parts = topic.split('/');
      if (parts.length !== 4 || parts[0] !== root || parts[1] !== fleet || !PEER_ID_PATTERN.test(parts[2])) return undefined;
      const kind = parts[3];
      return kind === 'in' || kind === 'out' || kind === 'status' ? { device: parts[2], kind } : undefined;
    },
  };
}
