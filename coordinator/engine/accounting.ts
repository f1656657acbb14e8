/**
 * Per-device traffic accounting at the TeacherPort: bytes down (coordinator → device) and up, by message
 * kind, and the number of round trips. Counted as float32 payload bytes plus shapes — the size before the
 * wire codec's own framing, encryption and optional float16 compression.
 */
import { tensorBytes as float32Bytes, type TeacherPort } from '../../shared/distill/port.js';

export interface Traffic {
  down: Record<string, number>;
  up: Record<string, number>;
  roundTrips: number;
}

export function emptyTraffic(): Traffic {
  return { down: {}, up: {}, roundTrips: 0 };
}

function add(rec: Record<string, number>, kind: string, bytes: number): void {
  rec[kind] = (rec[kind] ?? 0) + bytes;
}

/** Adds `from`'s counts into `into` (a resumed run's counters plus the checkpointed ones). */
export function addTraffic(into: Traffic, from: Traffic): void {
  for (const [kind, bytes] of Object.entries(from.down)) add(into.down, kind, bytes);
  for (const [kind, bytes] of Object.entries(from.up)) add(into.up, kind, bytes);
  into.roundTrips += from.roundTrips;
}

export function copyTraffic(t: Traffic): Traffic {
  return { down: { ...t.down }, up: { ...t.up }, roundTrips: t.roundTrips };
}

export function totalBytes(rec: Record<string, number>): number {
  return Object.values(rec).reduce((a, b) => a + b, 0);
}

/**
 * Wraps a port so every call is counted into `traffic`. `bytesPerValue` is 4 for float32 payloads and 2 when
 * the tensors travel as float16.
 */
export function accountedPort(inner: TeacherPort, traffic: Traffic, bytesPerValue = 4): TeacherPort {
  const tensorBytes = (t: Parameters<typeof float32Bytes>[0]) => (float32Bytes(t) * bytesPerValue) / 4;
  return {
    deviceId: inner.deviceId,
    async info() {
      traffic.roundTrips++;
      const info = await inner.info();
      add(traffic.up, 'info', 8 * (info.labelHistogram.length + info.inputShape.length + 3));
      return info;
    },
    async logits(q) {
      traffic.roundTrips++;
      // Seeded probes: directions, mu, seed; procedural images: seed, count.
      add(traffic.down, 'logits', tensorBytes(q.inputs) + (q.probes ? 12 : 0) + (q.procedural ? 8 : 0));
      const r = await inner.logits(q);
      add(traffic.up, 'logits', tensorBytes(r.logits));
      return r;
    },
    async gradient(q) {
      traffic.roundTrips++;
      add(traffic.down, 'gradient', tensorBytes(q.inputs) + q.targets.byteLength + (q.sampleWeights?.byteLength ?? 0) + tensorBytes(q.classWeights) + tensorBytes(q.studentProbs) + 24);
      const r = await inner.gradient(q);
      add(traffic.up, 'gradient', tensorBytes(r.logits) + tensorBytes(r.inputGradient) + 24);
      return r;
    },
  };
}
