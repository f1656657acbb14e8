/**
 * The append-only audit log: one row per frame received or sent (direction, peer, type, size, SHA-256,
 * time, round). Triggers refuse UPDATE and DELETE, so the log can only grow. Frames are queued in memory
 * and written in one transaction per flush (the service flushes every 200 ms and on shutdown), because a
 * transaction per frame would cap the coordinator at the disk's commit rate; a SIGKILL loses at most the
 * last unflushed batch.
 */
import type Database from 'better-sqlite3';
import type { FrameRecord } from './observed-codec.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  peer TEXT,
  type TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  round INTEGER
);
CREATE INDEX IF NOT EXISTS audit_peer ON audit (peer, seq);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

/** One audit row. */
export interface AuditRow extends FrameRecord {
  seq: number;
}

/** Where flushed traffic is added up per device. */
export interface TrafficSink {
  addTraffic(id: string, t: { bytesIn: number; bytesOut: number; framesIn: number; framesOut: number; lastSeen?: number }): void;
}

/** Queues frame records and writes them in batches. */
export class AuditLog {
  private queue: FrameRecord[] = [];

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
  }

  /** Queues one record; cheap enough for the codec's hot path. */
  record(r: FrameRecord): void {
    this.queue.push(r);
  }

  /** Writes the queued records (and their per-device traffic, if a sink is given) in one transaction. */
  flush(sink?: TrafficSink): number {
    if (!this.queue.length) return 0;
    const batch = this.queue;
    this.queue = [];
    const insert = this.db.prepare('INSERT INTO audit (ts, direction, peer, type, bytes, sha256, round) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const traffic = new Map<string, { bytesIn: number; bytesOut: number; framesIn: number; framesOut: number; lastSeen?: number }>();
    for (const r of batch) {
      if (r.peer === undefined) continue;
      let t = traffic.get(r.peer);
      if (!t) traffic.set(r.peer, (t = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 }));
      if (r.direction === 'in') {
        t.bytesIn += r.bytes;
        t.framesIn++;
        // Only an authenticated frame proves the device was there; a rejected one may be anybody.
        if (!r.type.startsWith('rejected:')) t.lastSeen = Math.max(t.lastSeen ?? 0, r.ts);
      } else {
        t.bytesOut += r.bytes;
        t.framesOut++;
      }
    }
    this.db.transaction(() => {
      for (const r of batch) insert.run(r.ts, r.direction, r.peer ?? null, r.type, r.bytes, r.sha256, r.round ?? null);
      if (sink) for (const [id, t] of traffic) sink.addTraffic(id, t);
    })();
    return batch.length;
  }

  /** Newest rows first, optionally for one peer, at most `limit`. */
  list(opts: { peer?: string; limit?: number; before?: number } = {}): AuditRow[] {
    const limit = Math.max(1, Math.min(opts.limit ?? 100, 10_000));
    const rows = this.db
      .prepare(
        `SELECT seq, ts, direction, peer, type, bytes, sha256, round FROM audit
         WHERE (? IS NULL OR peer = ?) AND (? IS NULL OR seq < ?) ORDER BY seq DESC LIMIT ?`,
      )
      .all(opts.peer ?? null, opts.peer ?? null, opts.before ?? null, opts.before ?? null, limit) as (AuditRow & { peer: string | null; round: number | null })[];
    return rows.map((r) => {
      const row: AuditRow = { seq: r.seq, ts: r.ts, direction: r.direction, peer: r.peer ?? undefined, type: r.type, bytes: r.bytes, sha256: r.sha256 };
      if (r.round !== null) row.round = r.round;
      return row;
    });
  }

  /** Rows written so far. */
  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
  }
}
