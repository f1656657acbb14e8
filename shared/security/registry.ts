/**
 * Who may talk to the coordinator. A device joins with a one-time enrollment token, or waits as `pending`
 * until an operator approves its key (or the operator pre-approves a `.pub` file). Unknown devices are
 * refused; revoked devices are cut off for good. The registry is an interface so a coordinator can back it
 * with a database; {@link MemoryRegistry} is the reference implementation, snapshot-able to JSON.
 */
import nacl from 'tweetnacl';
import { ProtocolError } from '../protocol/errors.js';
import { bytesEqual, type PublicIdentity } from './keys.js';

/** Lifecycle of a device record. */
export type DeviceStatus = 'pending' | 'active' | 'revoked';

/** A known peer with its keys and status. */
export interface DeviceRecord extends PublicIdentity {
  status: DeviceStatus;
  updatedAt: number;
  reason?: string;
}

/** Key lookup the secure channel needs to verify and encrypt: the narrow read side of a registry. */
export interface KeyDirectory {
  lookup(id: string): DeviceRecord | undefined;
}

/** Outcome of an enrollment attempt; refusals carry a code for the `error` reply. */
export type EnrollOutcome =
  | { status: 'accepted'; record: DeviceRecord }
  | { status: 'pending'; record: DeviceRecord }
  | { status: 'refused'; code: 'revoked' | 'bad_token' | 'key_mismatch' | 'too_many_pending'; reason: string };

/** The coordinator's device registry. `now` is passed in (ms) so tests control token expiry. */
export interface DeviceRegistry extends KeyDirectory {
  enroll(request: PublicIdentity & { token?: string }, now: number): EnrollOutcome;
  issueToken(opts: { ttlMs: number; now: number }): string;
  approve(id: string, now: number): DeviceRecord;
  preapprove(identity: PublicIdentity, now: number): DeviceRecord;
  revoke(id: string, reason: string, now: number): DeviceRecord | undefined;
  list(): DeviceRecord[];
}

const tokenHash = (token: string): string => Buffer.from(nacl.hash(new TextEncoder().encode(token))).toString('hex');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** In-memory registry. Tokens are stored only as hashes, so a leaked snapshot cannot enroll anyone. */
export class MemoryRegistry implements DeviceRegistry {
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly tokens = new Map<string, number>(); // hash -> expiresAt
  /** Bounds the records an unauthenticated flood of enroll.requests can create. */
  constructor(private readonly maxPending = 1000) {}

  lookup(id: string): DeviceRecord | undefined {
    return this.devices.get(id);
  }

  list(): DeviceRecord[] {
    return [...this.devices.values()];
  }

  issueToken({ ttlMs, now }: { ttlMs: number; now: number }): string {
    if (!(ttlMs > 0)) throw new ProtocolError('bad_argument', `issueToken: ttlMs must be > 0, got ${ttlMs}`);
    const token = `dt_${Buffer.from(nacl.randomBytes(24)).toString('base64url')}`;
    this.tokens.set(tokenHash(token), now + ttlMs);
    return token;
  }

  enroll(req: PublicIdentity & { token?: string }, now: number): EnrollOutcome {
    const existing = this.devices.get(req.id);
    if (existing?.status === 'revoked') return { status: 'refused', code: 'revoked', reason: `device ${req.id} is revoked` };
    if (existing && !(bytesEqual(existing.signPublicKey, req.signPublicKey) && bytesEqual(existing.boxPublicKey, req.boxPublicKey)))
      return { status: 'refused', code: 'key_mismatch', reason: `device ${req.id} is registered with different keys` };
    if (existing?.status === 'active') return { status: 'accepted', record: existing };
    if (req.token !== undefined) {
      const h = tokenHash(req.token);
      const expiresAt = this.tokens.get(h);
      if (expiresAt === undefined || expiresAt <= now) {
        if (expiresAt !== undefined) this.tokens.delete(h);
        return { status: 'refused', code: 'bad_token', reason: 'enrollment token is unknown, used or expired' };
      }
      this.tokens.delete(h); // one-time
      return { status: 'accepted', record: this.put(req, 'active', now) };
    }
    if (existing) return { status: 'pending', record: existing };
    const pending = this.list().filter((d) => d.status === 'pending').length;
    if (pending >= this.maxPending)
      return { status: 'refused', code: 'too_many_pending', reason: `${pending} enrollments already await approval` };
    return { status: 'pending', record: this.put(req, 'pending', now) };
  }

  approve(id: string, now: number): DeviceRecord {
    const d = this.devices.get(id);
    if (!d) throw new ProtocolError('unknown_device', `approve: no device ${id}; known: ${[...this.devices.keys()].join(', ') || 'none'}`);
    if (d.status === 'revoked') throw new ProtocolError('revoked', `approve: device ${id} is revoked`);
    return this.put(d, 'active', now);
  }

  preapprove(identity: PublicIdentity, now: number): DeviceRecord {
    const d = this.devices.get(identity.id);
    if (d?.status === 'revoked') throw new ProtocolError('revoked', `preapprove: device ${identity.id} is revoked`);
    return this.put(identity, 'active', now);
  }

  revoke(id: string, reason: string, now: number): DeviceRecord | undefined {
    const d = this.devices.get(id);
    return d ? this.put(d, 'revoked', now, reason) : undefined;
  }

  private put(p: PublicIdentity, status: DeviceStatus, now: number, reason?: string): DeviceRecord {
    const record: DeviceRecord = { id: p.id, signPublicKey: p.signPublicKey, boxPublicKey: p.boxPublicKey, status, updatedAt: now };
    if (reason !== undefined) record.reason = reason;
    this.devices.set(p.id, record);
    return record;
  }

  /** A JSON-safe snapshot (keys base64, tokens hashed) for persistence. */
  toJSON(): { devices: Record<string, unknown>[]; tokens: [string, number][] } {
    return {
      devices: this.list().map((d) => ({ ...d, signPublicKey: b64(d.signPublicKey), boxPublicKey: b64(d.boxPublicKey) })),
      tokens: [...this.tokens],
    };
  }

  /** Restores a {@link toJSON} snapshot. */
  static fromJSON(snapshot: ReturnType<MemoryRegistry['toJSON']>, maxPending?: number): MemoryRegistry {
    const r = new MemoryRegistry(maxPending);
    for (const raw of snapshot.devices) {
      const d = raw as unknown as DeviceRecord & { signPublicKey: string; boxPublicKey: string };
      const record: DeviceRecord = { ...d, signPublicKey: new Uint8Array(Buffer.from(d.signPublicKey, 'base64')), boxPublicKey: new Uint8Array(Buffer.from(d.boxPublicKey, 'base64')) };
      r.devices.set(record.id, record);
    }
    for (const [h, exp] of snapshot.tokens) r.tokens.set(h, exp);
    return r;
  }
}

/** A fixed directory of trusted peers; what an edge agent uses to pin its coordinator's keys. */
export function pinnedDirectory(peers: PublicIdentity[]): KeyDirectory {
  const map = new Map(peers.map((p) => [p.id, { ...p, status: 'active' as const, updatedAt: 0 }]));
  return { lookup: (id) => map.get(id) };
}
