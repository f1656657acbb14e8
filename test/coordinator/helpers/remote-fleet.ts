/**
 * Devices behind the network, in one process: each LocalTeacher is served by serveTeacher on its own
 * transport over an in-memory network with real keys and secure channels, and the coordinator sees
 * RemoteTeacherPorts. The same wiring a deployment uses, minus sockets.
 */
import { systemClock } from '../../../shared/protocol/clock.js';
import type { Handler, Transport } from '../../../shared/transport/transport.js';
import { createTransport } from '../../../shared/transport/transport.js';
import { createMemoryNetwork, type MemoryNetwork } from '../../../shared/transport/memory.js';
import type { TeacherPort } from '../../../shared/distill/port.js';
import { serveTeacher } from '../../../edge-agent/serve-teacher.js';
import { RemoteTeacherPort, type RemoteTeacherOptions } from '../../../coordinator/remote-teacher.js';
import { observedCodec, TrafficCounters } from '../../../coordinator/observed-codec.js';
import { captureLogger, makeFleet } from '../../protocol/helpers/peers.js';

export interface RemoteFleet {
  keys: ReturnType<typeof makeFleet>;
  net: MemoryNetwork;
  /** Wire bytes per device, counted at the coordinator's codec. */
  traffic: TrafficCounters;
  hub: Transport;
  devices: Transport[];
  ids: string[];
  ports(o?: Partial<RemoteTeacherOptions>): RemoteTeacherPort[];
  close(): Promise<void>;
}

/** Serves each teacher (or a custom handler in its place) behind its own transport. */
export function remoteFleet(teachers: (TeacherPort | Handler)[]): RemoteFleet {
  const fleet = makeFleet(teachers.length, systemClock);
  const net = createMemoryNetwork();
  const traffic = new TrafficCounters();
  const codec = observedCodec(fleet.coordinatorChannel(), (r) => traffic.add(r));
  const hub = createTransport(net.connect(fleet.coordinator.id), codec, { logger: captureLogger() });
  const devices = fleet.devices.map((d, i) => {
    const t = createTransport(net.connect(d.id), fleet.deviceChannel(d), { logger: captureLogger() });
    const teacher = teachers[i];
    if (typeof teacher === 'function') t.handle(teacher);
    else serveTeacher(t, teacher);
    return t;
  });
  const ids = fleet.devices.map((d) => d.id);
  return {
    keys: fleet,
    net,
    traffic,
    hub,
    devices,
    ids,
    ports: (o = {}) => ids.map((deviceId) => new RemoteTeacherPort({ transport: hub, deviceId, timeoutMs: 5000, ...o })),
    async close() {
      await Promise.all([hub, ...devices].map((t) => t.close()));
    },
  };
}
