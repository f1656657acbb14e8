/** Starts a real Mosquitto broker on a free loopback port with a generated config. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';

export interface Mosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Locates the binary: $MOSQUITTO_BIN if set (and only it), else /usr/sbin/mosquitto, else PATH. */
export function findMosquitto(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.MOSQUITTO_BIN) return existsSync(env.MOSQUITTO_BIN) ? env.MOSQUITTO_BIN : undefined;
  const candidates = ['/usr/sbin/mosquitto', ...(env.PATH ?? '').split(delimiter).map((d) => join(d, 'mosquitto'))];
  return candidates.find((c) => existsSync(c));
}

/** A free TCP port on the loopback interface (bound once, then released). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function waitForPort(port: number, proc: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited with code ${proc.exitCode} before listening`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${deadlineMs} ms`);
}

export async function startMosquitto(env: NodeJS.ProcessEnv = process.env): Promise<Mosquitto> {
  const bin = findMosquitto(env);
  if (!bin)
    throw new Error(`Mosquitto not found (looked at ${env.MOSQUITTO_BIN ? `$MOSQUITTO_BIN=${env.MOSQUITTO_BIN}` : '/usr/sbin/mosquitto and PATH'}). Install the Debian package "mosquitto" (CI does) to run the real-broker tests.`);
  const dir = mkdtempSync(join(tmpdir(), 'distillery-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const proc = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  try {
    await waitForPort(port, proc, 5000);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
