/**
 * Ingest over a local MQTT topic, for sensors and gateways that already publish there. Each message is a
 * JSON sample {"x": [...], "y": label} or {"samples": [...]}. A bad message is refused with its reason
 * published on `<topic>/rejected` (and logged); it never stops the agent or touches stored samples.
 */
import mqtt from 'mqtt';
import type { Agent, AgentLogger } from './agent.js';

export interface MqttIngest {
  close(): Promise<void>;
}

export async function startMqttIngest(agent: Agent, o: { url: string; topic: string }, log: AgentLogger): Promise<MqttIngest> {
  const client = mqtt.connect(o.url, { clientId: `distillery-ingest-${agent.identity.id.slice(0, 16)}`, reconnectPeriod: 2000, connectTimeout: 10_000 });
  client.on('error', (e) => log.warn('ingest broker error', { url: o.url, error: e.message }));
  client.on('connect', () => {
    client.subscribe(o.topic, { qos: 1 }, (err) => (err ? log.warn('ingest subscribe failed', { topic: o.topic, error: err.message }) : log.info('ingesting from MQTT', { url: o.url, topic: o.topic })));
  });
  client.on('message', (topic, payload) => {
    if (topic !== o.topic) return;
    try {
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch (e) {
        throw new Error(`message is not valid JSON: ${(e as Error).message}`);
      }
      const samples = typeof body === 'object' && body !== null && Array.isArray((body as { samples?: unknown }).samples) ? (body as { samples: unknown[] }).samples : [body];
      const r = agent.ingest(samples);
      log.info('samples ingested', { via: 'mqtt', accepted: r.accepted, total: r.total });
    } catch (e) {
      const reason = (e as Error).message;
      log.warn('ingest message rejected', { via: 'mqtt', reason });
      client.publish(`${o.topic}/rejected`, JSON.stringify({ error: reason }), { qos: 0 });
    }
  });
  return { close: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())) };
}
