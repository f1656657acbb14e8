/**
 * One fixture per link implementation, so the transport contract suite runs unchanged over each.
 * Network spokes connect through a cuttable proxy: interrupting a spoke is a real socket loss.
 */
import type { Link } from '../../../shared/transport/link.js';
import { createMemoryNetwork, type MemoryNetwork } from '../../../shared/transport/memory.js';
import { connectMqttHub, connectMqttSpoke } from '../../../shared/transport/mqtt-link.js';
import { listenWsHub, type WsHub } from '../../../shared/transport/ws-hub.js';
import { connectWsSpoke } from '../../../shared/transport/ws-spoke.js';
import { startMosquitto, type Mosquitto } from './mosquitto.js';
import { startProxy, type Proxy } from './proxy.js';

export interface LinkFixture {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  hub(hubId: string, fleet: string): Promise<Link>;
  spoke(id: string, hubId: string, fleet: string): Promise<Link>;
  /** Makes the spoke lose its connection; it must come back on its own. */
  interrupt(id: string): void;
}

const fastBackoff = { initialMs: 20, maxMs: 200 };

/** Tracks per-spoke proxies so a test can cut one spoke's connection. */
function proxies() {
  const byId = new Map<string, Proxy>();
  return {
    async via(id: string, port: number): Promise<Proxy> {
      const p = await startProxy(port);
      byId.set(id, p);
      return p;
    },
    cut: (id: string) => byId.get(id)?.cut(),
    async closeAll() {
      await Promise.all([...byId.values()].map((p) => p.close()));
      byId.clear();
    },
  };
}

export function memoryFixture(): LinkFixture {
  let net: MemoryNetwork;
  return {
    name: 'in-memory',
    setup: async () => {
      net = createMemoryNetwork();
    },
    teardown: async () => {},
    hub: async (hubId) => net.connect(hubId),
    spoke: async (id) => net.connect(id),
    interrupt: (id) => net.interrupt(id, 60),
  };
}

export function wsFixture(): LinkFixture {
  const px = proxies();
  let hub: WsHub | undefined;
  return {
    name: 'ws',
    setup: async () => {},
    teardown: () => px.closeAll(),
    hub: async (hubId) => (hub = await listenWsHub({ id: hubId })),
    async spoke(id, hubId) {
      if (!hub) throw new Error('start the hub first');
      const p = await px.via(id, hub.port);
      return connectWsSpoke({ url: `ws://127.0.0.1:${p.port}/distillery`, id, hubId, backoff: fastBackoff });
    },
    interrupt: (id) => px.cut(id),
  };
}

/** MQTT with the embedded aedes broker (started by the hub because no URL is given). */
export function mqttAedesFixture(): LinkFixture {
  const px = proxies();
  let brokerPort = 0;
  return {
    name: 'mqtt+aedes',
    setup: async () => {},
    teardown: () => px.closeAll(),
    async hub(hubId, fleet) {
      const hub = await connectMqttHub({ fleet, id: hubId, backoff: fastBackoff });
      brokerPort = Number(new URL(hub.brokerUrl).port);
      return hub;
    },
    async spoke(id, hubId, fleet) {
      const p = await px.via(id, brokerPort);
      return connectMqttSpoke({ url: `mqtt://127.0.0.1:${p.port}`, fleet, id, hubId, backoff: fastBackoff });
    },
    interrupt: (id) => px.cut(id),
  };
}

/** MQTT against a real Mosquitto process; fails loudly if the binary is missing. */
export function mqttMosquittoFixture(): LinkFixture {
  const px = proxies();
  let broker: Mosquitto | undefined;
  return {
    name: 'mqtt+mosquitto',
    setup: async () => {
      broker = await startMosquitto();
    },
    teardown: async () => {
      await px.closeAll();
      await broker?.stop();
    },
    hub: (hubId, fleet) => connectMqttHub({ url: broker!.url, fleet, id: hubId, backoff: fastBackoff }),
    async spoke(id, hubId, fleet) {
      const p = await px.via(id, broker!.port);
      return connectMqttSpoke({ url: `mqtt://127.0.0.1:${p.port}`, fleet, id, hubId, backoff: fastBackoff });
    },
    interrupt: (id) => px.cut(id),
  };
}
