/**
 * The embedded MQTT broker: aedes on a loopback TCP port, started in-process when no broker URL is
 * configured, so a single coordinator needs no extra service. Fleets that already run Mosquitto or a
 * managed broker pass its URL instead.
 */
import { createServer, type Socket, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';

/** A running embedded broker. */
export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts aedes on host:port (defaults 127.0.0.1 and a free port). */
export async function startEmbeddedBroker(opts: { host?: string; port?: number } = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `mqtt://${host}:${port}`,
    port,
    close() {
      closed ??= (async () => {
        // server.close waits for open connections, so end them first.
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await new Promise<void>((resolve) => broker.close(() => resolve()));
      })();
      return closed;
    },
  };
}
