/**
 * MQTT links over any broker (mqtt.js). QoS 1 everywhere, persistent sessions (clean: false) so frames for
 * a briefly disconnected peer are queued by the broker. QoS 1 means at-least-once, so duplicates are
 * dropped here by frame signature; retained messages are ignored because a retained frame would replay
 * stale traffic to every new subscriber. mqtt.js's fixed-period reconnect is replaced by exponential
 * backoff with jitter. Without a URL the hub starts an embedded aedes broker.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { MAX_FRAME_BYTES } from '../protocol/messages.js';
import { ProtocolError } from '../protocol/errors.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { ClosedError, TimeoutError } from './errors.js';
import { Listeners, type FrameHandler, type Link, type LinkEvent } from './link.js';
import { startEmbeddedBroker } from './mqtt-broker.js';
import { topicLayout } from './topics.js';

/** Options shared by hub and spoke. */
export interface MqttLinkOptions {
  url: string;
  fleet: string;
  id: string;
  /** The coordinator's id (a spoke's only peer). */
  hubId: string;
  root?: string;
  backoff?: BackoffOptions;
  random?: () => number;
  connectTimeoutMs?: number;
  keepaliveS?: number;
  maxFrameBytes?: number;
  /** Frames handled concurrently; more wait in a queue (default 64). */
  maxInFlight?: number;
  /** Queued frames beyond which new ones are shed and counted as `overload` (default 10,000). */
  maxQueued?: number;
}

/** A hub link, with the broker it uses and the devices it has seen online. */
export interface MqttHub extends Link {
  readonly brokerUrl: string;
  peers(): string[];
  /** Counters of frames dropped before decoding. */
  drops(): { retained: number; duplicate: number; oversized: number; overload: number };
}

/** Connects an edge agent to the broker; resolves after the first connection and subscription. */
export function connectMqttSpoke(opts: MqttLinkOptions): Promise<MqttHub> {
  return mqttLink('spoke', opts);
}

/** Connects the coordinator; starts an embedded aedes broker on loopback when `url` is omitted. */
export async function connectMqttHub(opts: Omit<MqttLinkOptions, 'url' | 'hubId'> & { url?: string }): Promise<MqttHub> {
  if (opts.url) return mqttLink('hub', { ...opts, url: opts.url, hubId: opts.id });
  const broker = await startEmbeddedBroker();
  try {
    return await mqttLink('hub', { ...opts, url: broker.url, hubId: opts.id }, () => broker.close());
  } catch (e) {
    await broker.close();
    throw e;
  }
}

const DEDUPE_WINDOW = 4096;

async function mqttLink(role: 'hub' | 'spoke', opts: MqttLinkOptions, afterClose?: () => Promise<void>): Promise<MqttHub> {
  const layout = topicLayout(opts.fleet, opts.root);
  const maxFrame = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
  const maxInFlight = opts.maxInFlight ?? 64;
  const events = new Listeners<LinkEvent>();
  const online = new Set<string>();
  const seen = new Set<string>();
  const maxQueued = opts.maxQueued ?? 10_000;
  const drops = { retained: 0, duplicate: 0, oversized: 0, overload: 0 };
  const queue: [Uint8Array, string][] = [];
  let inFlight = 0;
  let handler: FrameHandler | undefined;
  let connected = false;
  let closing = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let lost: Promise<never> = new Promise(() => {});
  let signalLost: (e: Error) => void = () => {};

  const client: MqttClient = mqtt.connect(opts.url, {
    clientId: `distillery_${opts.fleet}_${opts.id}`,
    clean: false,
    reconnectPeriod: 0,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    keepalive: opts.keepaliveS ?? 10,
    protocolVersion: 4,
    will: role === 'spoke' ? { topic: layout.status(opts.id), payload: Buffer.from('offline'), qos: 1, retain: false } : undefined,
  });

  // Inbound flow control is a bounded queue, not mqtt.js's handleMessage hook: holding that callback stops
  // the client reading *every* packet, PUBACKs included, so a handler that publishes (every reply does)
  // would wait on an ack that can never be read. That deadlock is what the 100-client benchmark hit.
  const run = (frame: Uint8Array, from: string): void => {
    inFlight++;
    Promise.resolve()
      .then(() => handler?.(frame, from))
      .catch(() => {})
      .finally(() => {
        inFlight--;
        const next = queue.shift();
        if (next) run(...next);
      });
  };

  client.on('connect', () => {
    const subs = role === 'hub' ? [layout.allOutboxes, layout.allStatus] : [layout.inbox(opts.id)];
    client
      .subscribeAsync(subs, { qos: 1 })
      .then(() => (role === 'spoke' ? client.publishAsync(layout.status(opts.id), 'online', { qos: 1 }) : undefined))
      .then(() => {
        connected = true;
        attempt = 0;
        lost = new Promise<never>((_, reject) => (signalLost = reject));
        lost.catch(() => {});
        events.emit(role === 'spoke' ? { type: 'up', peer: opts.hubId } : { type: 'up' });
      })
      .catch(() => client.end(true)); // 'close' follows and retries
  });
  client.on('error', () => {}); // 'close' follows; an unheard 'error' would crash the process
  client.on('close', () => {
    if (connected) {
      connected = false;
      signalLost(new ClosedError(`connection to broker ${opts.url} lost`));
      online.clear();
      events.emit(role === 'spoke' ? { type: 'down', peer: opts.hubId, reason: 'broker connection lost' } : { type: 'down', reason: 'broker connection lost' });
    }
    if (closing || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!closing) client.reconnect();
    }, backoffDelay(attempt++, opts.backoff, opts.random));
  });

  client.on('message', (topic, payload, packet) => {
    if (packet.retain) return void drops.retained++;
    const t = layout.parse(topic);
    if (!t) return;
    if (role === 'hub' && t.kind === 'status') {
      // Presence hints only: they fail pending requests early; nothing is trusted from them.
      const state = payload.toString();
      if (state === 'online' && !online.has(t.device)) {
        online.add(t.device);
        events.emit({ type: 'up', peer: t.device });
      } else if (state === 'offline' && online.delete(t.device)) events.emit({ type: 'down', peer: t.device, reason: 'device offline' });
      return;
    }
    const expected = role === 'hub' ? t.kind === 'out' : t.kind === 'in' && t.device === opts.id;
    if (!expected) return;
    if (payload.length > maxFrame) return void drops.oversized++;
    // Every frame starts with its unique 64-byte signature, so it doubles as the duplicate key.
    const key = `${payload.length}:${payload.subarray(0, 64).toString('base64')}`;
    if (seen.has(key)) return void drops.duplicate++;
    seen.add(key);
    if (seen.size > DEDUPE_WINDOW) seen.delete(seen.values().next().value as string);
    const frame = new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
    const from = role === 'hub' ? t.device : opts.hubId;
    if (inFlight < maxInFlight) run(frame, from);
    else if (queue.length < maxQueued) queue.push([frame, from]);
    else drops.overload++; // shed load; the requester gets a TimeoutError rather than us running out of memory
  });

  const link: MqttHub = {
    localId: opts.id,
    brokerUrl: opts.url,
    peers: () => [...online],
    drops: () => ({ ...drops }),
    async send(to, frame) {
      if (role === 'spoke' && to !== opts.hubId) throw new ProtocolError('unknown_peer', `an MQTT spoke only reaches its hub ${opts.hubId}, not ${to}`);
      if (frame.length > maxFrame) throw new ProtocolError('too_large', `frame of ${frame.length} bytes exceeds ${maxFrame}`);
      if (!connected) throw new ClosedError(`not connected to broker ${opts.url}`);
      const topic = role === 'hub' ? layout.inbox(to) : layout.outbox(opts.id);
      const payload = Buffer.from(frame.buffer, frame.byteOffset, frame.length);
      // mqtt.js may keep an unacknowledged publish until a reconnect that never comes: race the connection.
      await Promise.race([client.publishAsync(topic, payload, { qos: 1 }), lost]);
    },
    onFrame(h) {
      handler = h;
    },
    onEvent: (l) => events.add(l),
    async close() {
      if (closing) return;
      closing = true;
      clearTimeout(retryTimer);
      const wasConnected = connected;
      connected = false;
      signalLost(new ClosedError('link closed'));
      // A forced end skips DISCONNECT, so the broker publishes our will and the hub learns we left.
      await client.endAsync(true).catch(() => {});
      if (wasConnected || role === 'hub') events.emit(role === 'spoke' ? { type: 'down', peer: opts.hubId, reason: 'closed' } : { type: 'down', reason: 'closed' });
      await afterClose?.();
    },
  };

  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        const off = events.add((e) => {
          if (e.type === 'up') {
            off();
            resolve();
          }
        });
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`could not connect to MQTT broker ${opts.url} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    await link.close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return link;
}
