/**
 * Protocol benchmark (npm run bench:protocol). Measures, in one Node process (one core for JS):
 *  - a soft-label reply (256 x 10 logits as float16): encode+sign+encrypt and decrypt+verify+decode per second;
 *  - tensor codec throughput, msgpack vs JSON, as MB of float32 data encoded and decoded per second;
 *  - secured request/reply round trips per second with 100 concurrent clients, over ws and MQTT (embedded
 *    aedes; Mosquitto too when installed, printed only), all on loopback.
 * Writes bench/results/protocol.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manualClock, systemClock } from '../shared/protocol/clock.js';
import { silentLogger } from '../shared/protocol/errors.js';
import { packValue, unpackExact } from '../shared/protocol/msgpack.js';
import { decodeTensor, encodeTensor, float16Tensor, float32Tensor, toFloat32, tryDecodeTensor } from '../shared/protocol/tensor.js';
import { seededRandom } from '../shared/random.js';
import { SecureChannel } from '../shared/security/channel.js';
import { defaultEd25519 } from '../shared/security/ed25519.js';
import { generateIdentity, publicIdentity, type Identity } from '../shared/security/keys.js';
import { MemoryRegistry, pinnedDirectory } from '../shared/security/registry.js';
import type { Link } from '../shared/transport/link.js';
import { connectMqttHub, connectMqttSpoke } from '../shared/transport/mqtt-link.js';
import { createTransport } from '../shared/transport/transport.js';
import { listenWsHub } from '../shared/transport/ws-hub.js';
import { connectWsSpoke } from '../shared/transport/ws-spoke.js';
import { findMosquitto, startMosquitto } from '../test/protocol/helpers/mosquitto.js';

const rnd = seededRandom(1);
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs `fn` repeatedly for about `ms` and returns calls per second. */
function rate(ms: number, fn: () => void): number {
  for (let i = 0; i < 20; i++) fn(); // warm up the JIT
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
  }
  return n / ((performance.now() - t0) / 1000);
}

function softLabelReply() {
  const clock = manualClock();
  const coordinator = generateIdentity();
  const device = generateIdentity();
  const registry = new MemoryRegistry();
  registry.preapprove(publicIdentity(device), clock.now());
  const agent = new SecureChannel({ identity: device, directory: pinnedDirectory([publicIdentity(coordinator)]), clock, logger: silentLogger });
  const coord = new SecureChannel({ identity: coordinator, directory: registry, clock, logger: silentLogger, replay: { seqWindow: 1 << 20 } });
  const logits = Float32Array.from({ length: 256 * 10 }, () => rnd.normal() * 3);
  const seal = () => agent.seal(coordinator.id, { type: 'round.reply', body: { logits: encodeTensor(float16Tensor(logits, [256, 10])) } }).frame;
  const sealPerSec = rate(2000, seal);
  const frames = Array.from({ length: Math.min(20_000, Math.ceil(sealPerSec * 2)) }, seal);
  const t0 = performance.now();
  for (const f of frames) {
    const r = coord.open(f);
    if (!r.ok || r.value.type !== 'round.reply') throw new Error(`open failed: ${r.ok ? r.value.type : r.error.reason}`);
    toFloat32(decodeTensor(r.value.body.logits));
  }
  const openPerSec = frames.length / ((performance.now() - t0) / 1000);
  return { sealPerSec: round(sealPerSec), openPerSec: round(openPerSec), bytes: frames[0].length };
}

function codecMBps() {
  const n = 256 * 1024; // 1 MiB of float32
  const values = Float32Array.from({ length: n }, () => rnd.normal());
  const mb = (n * 4) / (1024 * 1024);
  const msgpack = rate(1500, () => {
    const bytes = packValue({ t: encodeTensor(float32Tensor(values, [256, 1024])) });
    const r = unpackExact(bytes);
    if (!r.ok || !tryDecodeTensor((r.value as { t: unknown }).t).ok) throw new Error('msgpack round trip failed');
  });
  const json = rate(1500, () => {
    const text = JSON.stringify({ t: { dtype: 'float32', shape: [256, 1024], data: Array.from(values) } });
    const back = JSON.parse(text) as { t: { data: number[] } };
    if (Float32Array.from(back.t.data).length !== n) throw new Error('json round trip failed');
  });
  return { msgpack: round(msgpack * mb), json: round(json * mb) };
}

type LinkPair = { hub: (id: string) => Promise<Link & { close(): Promise<void> }>; spoke: (id: string, hubId: string) => Promise<Link> };

/** 100 clients, each in a closed request loop, for `ms` after a warm-up; returns completed round trips per second. */
async function roundTrips(pair: LinkPair, clients = 100, ms = 3000): Promise<number> {
  const coordinator = generateIdentity();
  const registry = new MemoryRegistry();
  const devices: Identity[] = Array.from({ length: clients }, () => generateIdentity());
  for (const d of devices) registry.preapprove(publicIdentity(d), systemClock.now());
  const hub = createTransport(await pair.hub(coordinator.id), new SecureChannel({ identity: coordinator, directory: registry, logger: silentLogger }), { logger: silentLogger });
  hub.handle((m) => (m.type === 'health.ping' ? { type: 'health.pong', body: {} } : undefined));
  const agents = await Promise.all(
    devices.map(async (d) =>
      createTransport(await pair.spoke(d.id, coordinator.id), new SecureChannel({ identity: d, directory: pinnedDirectory([publicIdentity(coordinator)]), logger: silentLogger }), { logger: silentLogger }),
    ),
  );
  let counting = false;
  let done = 0;
  let stop = false;
  const loops = agents.map(async (a) => {
    while (!stop) {
      const r = await a.request(coordinator.id, { type: 'health.ping', body: {} }, { timeoutMs: 10_000 });
      if (r.type !== 'health.pong') throw new Error(`unexpected ${r.type}`);
      if (counting) done++;
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const perSec = done / ((performance.now() - t0) / 1000);
  stop = true;
  await Promise.all(loops);
  await Promise.all(agents.map((a) => a.close()));
  await hub.close();
  return round(perSec);
}

const wsPair = (): LinkPair => {
  let url = '';
  return {
    hub: async (id) => {
      const h = await listenWsHub({ id });
      url = h.url;
      return h;
    },
    spoke: (id, hubId) => connectWsSpoke({ url, id, hubId }),
  };
};

const mqttPair = (brokerUrl?: string): LinkPair => {
  let url = brokerUrl ?? '';
  return {
    hub: async (id) => {
      const h = await connectMqttHub({ url: brokerUrl, fleet: 'bench', id });
      url = h.brokerUrl;
      return h;
    },
    spoke: (id, hubId) => connectMqttSpoke({ url, fleet: 'bench', id, hubId }),
  };
};

console.log(`ed25519 backend: ${defaultEd25519.name}`);
const soft = softLabelReply();
console.log(`soft-label reply (256x10 float16): ${soft.bytes} bytes, seal ${soft.sealPerSec}/s, open ${soft.openPerSec}/s`);
const codec = codecMBps();
console.log(`tensor codec (1 MiB float32, encode+decode): msgpack ${codec.msgpack} MB/s, JSON ${codec.json} MB/s`);
const ws = await roundTrips(wsPair());
console.log(`round trips, 100 clients, ws: ${ws}/s`);
const mqtt = await roundTrips(mqttPair());
console.log(`round trips, 100 clients, MQTT (embedded aedes): ${mqtt}/s`);
if (findMosquitto()) {
  const broker = await startMosquitto();
  try {
    console.log(`round trips, 100 clients, MQTT (Mosquitto, not in JSON): ${await roundTrips(mqttPair(broker.url))}/s`);
  } finally {
    await broker.stop();
  }
}

const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'protocol.json');
mkdirSync(dirname(out), { recursive: true });
const results = { softLabelReply: soft, roundTripsPerSec: { ws, mqtt }, codecMBps: codec };
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${out}`);
