/** A loopback TCP proxy the tests can cut or freeze, to simulate network loss without test hooks in product code. */
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';

export interface Proxy {
  port: number;
  /** Destroys every current connection (both sides see the socket die). */
  cut(): void;
  /** Stops forwarding without closing and drops what arrives: a silent network failure. */
  freeze(): void;
  thaw(): void;
  /** Stops reading (bytes pile up in kernel buffers): a slow consumer, for backpressure. */
  stall(): void;
  unstall(): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('data', (chunk) => {
        if (!frozen) b.write(chunk);
      });
      a.on('error', () => b.destroy());
      a.on('close', () => {
        b.destroy();
        pairs.delete(pair);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
    },
    stall: () => {
      for (const [a, b] of pairs) {
        a.pause();
        b.pause();
      }
    },
    unstall: () => {
      for (const [a, b] of pairs) {
        a.resume();
        b.resume();
      }
    },
    close: async () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
