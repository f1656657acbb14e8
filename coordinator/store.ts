/**
 * The fleet registry in SQLite (better-sqlite3): devices with their public keys and enrollment state,
 * capabilities and label histograms, last seen and byte counters, plus the append-only audit log of every
 * frame. Enrollment decisions are MemoryRegistry's (the tested reference), kept as a write-through cache:
 * every change is written to the database before it is visible, and the cache is rebuilt from the
 * database on open, so a restarted coordinator knows its fleet. `lookup` runs on every frame and stays a
 * map read.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CapabilitiesReportBody } from '../shared/protocol/messages.js';
import { MemoryRegistry, type DeviceRecord, type DeviceRegistry, type EnrollOutcome } from '../shared/security/registry.js';
import type { PublicIdentity } from '../shared/security/keys.js';
import { AuditLog } from './audit.js';

/** Everything the coordinator knows about one device. */
export interface DeviceView {
  id: string;
  status: DeviceRecord['status'];
  reason?: string;
  updatedAt: number;
  capabilities?: CapabilitiesReportBody;
  capabilitiesAt?: number;
  lastSeen?: number;
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  sign_key BLOB NOT NULL,
  box_key BLOB NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
  reason TEXT,
  updated_at INTEGER NOT NULL,
  capabilities TEXT,
  label_histogram TEXT,
  capabilities_at INTEGER,
  last_seen INTEGER,
  bytes_in INTEGER NOT NULL DEFAULT 0,
  bytes_out INTEGER NOT NULL DEFAULT 0,
  frames_in INTEGER NOT NULL DEFAULT 0,
  frames_out INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
`;

type Row = { id: string; sign_key: Buffer; box_key: Buffer; status: DeviceRecord['status']; reason: string | null; updated_at: number };

/** The coordinator's SQLite-backed device registry and fleet state. */
export class FleetStore implements DeviceRegistry {
  readonly db: Database.Database;
  readonly audit: AuditLog;
  private mem: MemoryRegistry;

  constructor(
    file: string,
    private readonly maxPending = 1000,
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    // WAL: readers (the API) never block the writer, and a crash loses at most the last transaction.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.audit = new AuditLog(this.db);
    this.mem = this.loadCache();
  }

  private loadCache(): MemoryRegistry {
    const devices = (this.db.prepare('SELECT id, sign_key, box_key, status, reason, updated_at FROM devices').all() as Row[]).map((r) => ({
      id: r.id,
      signPublicKey: Buffer.from(r.sign_key).toString('base64'),
      boxPublicKey: Buffer.from(r.box_key).toString('base64'),
      status: r.status,
      updatedAt: r.updated_at,
      ...(r.reason !== null ? { reason: r.reason } : {}),
    }));
    const tokens = this.db.prepare('SELECT hash, expires_at FROM tokens').raw().all() as [string, number][];
    return MemoryRegistry.fromJSON({ devices, tokens }, this.maxPending);
  }

  /** Writes the cached record of `id` and the token table, in one transaction. */
  private persist(id: string | undefined): void {
    const write = this.db.transaction(() => {
      const d = id === undefined ? undefined : this.mem.lookup(id);
      if (d)
        this.db
          .prepare(
            `INSERT INTO devices (id, sign_key, box_key, status, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at`,
          )
          .run(d.id, Buffer.from(d.signPublicKey), Buffer.from(d.boxPublicKey), d.status, d.reason ?? null, d.updatedAt);
      this.db.prepare('DELETE FROM tokens').run();
      const insert = this.db.prepare('INSERT INTO tokens (hash, expires_at) VALUES (?, ?)');
      for (const [h, exp] of this.mem.toJSON().tokens) insert.run(h, exp);
    });
    write();
  }

  /** Applies a registry change to a copy, persists it, then makes it visible; a failed write changes nothing. */
  private change<T>(id: (r: T) => string | undefined, f: (m: MemoryRegistry) => T): T {
    const next = MemoryRegistry.fromJSON(this.mem.toJSON(), this.maxPending);
    const result = f(next);
    const previous = this.mem;
    this.mem = next;
    try {
      this.persist(id(result));
    } catch (e) {
      this.mem = previous;
      throw e;
    }
    return result;
  }

  lookup(id: string): DeviceRecord | undefined {
    return this.mem.lookup(id);
  }
  list(): DeviceRecord[] {
    return this.mem.list();
  }
  enroll(request: PublicIdentity & { token?: string }, now: number): EnrollOutcome {
    return this.change((o: EnrollOutcome) => (o.status === 'refused' ? undefined : o.record.id), (m) => m.enroll(request, now));
  }
  issueToken(opts: { ttlMs: number; now: number }): string {
    return this.change(() => undefined, (m) => m.issueToken(opts));
  }
  approve(id: string, now: number): DeviceRecord {
    return this.change((d: DeviceRecord) => d.id, (m) => m.approve(id, now));
  }
  preapprove(identity: PublicIdentity, now: number): DeviceRecord {
    return this.change((d: DeviceRecord) => d.id, (m) => m.preapprove(identity, now));
  }
  revoke(id: string, reason: string, now: number): DeviceRecord | undefined {
    return this.change((d: DeviceRecord | undefined) => d?.id, (m) => m.revoke(id, reason, now));
  }

  /** Records a device's latest capabilities report (label histogram included). */
  setCapabilities(id: string, caps: CapabilitiesReportBody, now: number): void {
    this.db
      .prepare('UPDATE devices SET capabilities = ?, label_histogram = ?, capabilities_at = ? WHERE id = ?')
      .run(JSON.stringify(caps), JSON.stringify(caps.labelHistogram), now, id);
  }

  /** Adds traffic and moves last-seen forward; called in batches by the audit flush. */
  addTraffic(id: string, t: { bytesIn: number; bytesOut: number; framesIn: number; framesOut: number; lastSeen?: number }): void {
    this.db
      .prepare(
        `UPDATE devices SET bytes_in = bytes_in + ?, bytes_out = bytes_out + ?, frames_in = frames_in + ?, frames_out = frames_out + ?,
         last_seen = MAX(COALESCE(last_seen, 0), COALESCE(?, 0)) WHERE id = ?`,
      )
      .run(t.bytesIn, t.bytesOut, t.framesIn, t.framesOut, t.lastSeen ?? null, id);
  }

  /** One device's full view, or undefined if unknown. */
  device(id: string): DeviceView | undefined {
    const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return row && FleetStore.view(row);
  }

  /** Every known device with its state and counters. */
  devices(): DeviceView[] {
    return (this.db.prepare('SELECT * FROM devices ORDER BY id').all() as Record<string, unknown>[]).map((r) => FleetStore.view(r));
  }

  private static view(r: Record<string, unknown>): DeviceView {
    const v: DeviceView = {
      id: r.id as string,
      status: r.status as DeviceView['status'],
      updatedAt: r.updated_at as number,
      bytesIn: r.bytes_in as number,
      bytesOut: r.bytes_out as number,
      framesIn: r.frames_in as number,
      framesOut: r.frames_out as number,
    };
    if (r.reason !== null) v.reason = r.reason as string;
    if (r.capabilities !== null) v.capabilities = JSON.parse(r.capabilities as string);
    if (r.capabilities_at !== null) v.capabilitiesAt = r.capabilities_at as number;
    if (r.last_seen !== null) v.lastSeen = r.last_seen as number;
    return v;
  }

  /** Flushes the audit queue and closes the database. */
  close(): void {
    this.audit.flush(this);
    this.db.close();
  }
}
