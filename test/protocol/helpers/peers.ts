/** Test wiring: a coordinator and devices with keys, a registry, channels, and frame crafting. */
import nacl from 'tweetnacl';
import { manualClock, type Clock } from '../../../shared/protocol/clock.js';
import { packValue } from '../../../shared/protocol/msgpack.js';
import type { Logger } from '../../../shared/protocol/errors.js';
import {
  generateIdentity,
  MemoryRegistry,
  pinnedDirectory,
  publicIdentity,
  SecureChannel,
  type Identity,
} from '../../../shared/security/index.js';

/** A logger that keeps what it was told. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => void lines.push(m) };
}

/** A coordinator and `n` pre-approved devices. */
export function makeFleet(n: number, clock: Clock = manualClock()) {
  const coordinator = generateIdentity();
  const devices = Array.from({ length: n }, () => generateIdentity());
  const registry = new MemoryRegistry();
  for (const d of devices) registry.preapprove(publicIdentity(d), clock.now());
  const coordinatorChannel = (logger: Logger = captureLogger()) =>
    new SecureChannel({ identity: coordinator, directory: registry, acceptEnrollment: true, clock, logger });
  const deviceChannel = (d: Identity, logger: Logger = captureLogger()) =>
    new SecureChannel({ identity: d, directory: pinnedDirectory([publicIdentity(coordinator)]), clock, logger });
  return { coordinator, devices, registry, clock, coordinatorChannel, deviceChannel };
}

/** Builds a frame from an arbitrary header, signed by `signer` (bypasses all of seal's checks). */
export function craftFrame(header: Record<string, unknown>, signer: Identity): Uint8Array {
  const signed = packValue(header);
  const frame = new Uint8Array(64 + signed.length);
  frame.set(nacl.sign.detached(signed, signer.sign.secretKey), 0);
  frame.set(signed, 64);
  return frame;
}

let crafted = 0;

/** A header as `from` would seal it for `to`, with the body encrypted; fields overridable. */
export function craftHeader(from: Identity, to: Identity, body: unknown, clock: Clock, overrides: Record<string, unknown> = {}) {
  const nonce = nacl.randomBytes(24);
  const ct = nacl.box(packValue(body), nonce, to.box.publicKey, from.box.secretKey);
  return { v: 1, type: 'telemetry.report', id: `crafted${++crafted}`, sender: from.id, to: to.id, ts: clock.now(), seq: clock.now() * 1000 + 500_000 + ++crafted, nonce, ct, ...overrides };
}
