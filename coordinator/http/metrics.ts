/**
 * GET /metrics: the coordinator's Prometheus metrics through prom-client, on a Registry of its own (not
 * prom-client's global one, so two coordinators in one process never share or clash). The fleet, job and
 * codec metrics are gauges and counters filled from one snapshot of the coordinator's state taken at
 * scrape time (each metric's `collect()`); the process metrics are prom-client's defaults, prefixed
 * `distillery_` (`distillery_process_resident_memory_bytes`, `distillery_nodejs_eventloop_lag_seconds`, …).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { CodecStats } from '../../shared/protocol/codec.js';
import type { FleetDevice } from '../fleet.js';
import type { JobStatus } from '../runner.js';

/** Inputs of one scrape. */
export interface MetricsInput {
  devices: FleetDevice[];
  job: JobStatus;
  codec: CodecStats;
  auditRows: number;
  transport: { lateReplies: number; errorReplies: number };
}

/** Prefix of every metric this registry exposes. */
export const METRICS_PREFIX = 'distillery_';

type Labels = Record<string, string>;
type Samples = [Labels, number][];

/** A coordinator's metrics registry; `scrape()` renders the exposition text of the state `source()` reports now. */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  /** The registry's content type: `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType = this.registry.contentType;
  private snap: MetricsInput | undefined;

  constructor(private readonly source: () => MetricsInput) {
    collectDefaultMetrics({ register: this.registry, prefix: METRICS_PREFIX });
    const snapshot = () => (this.snap ??= this.source());
    const registers = [this.registry];
    // Every metric is rebuilt from the snapshot at each scrape: reset drops label sets that went away
    // (a forgotten device), then the current samples are written. Counters are monotone in the store;
    // prom-client has no Counter.set, so a reset counter is incremented by the stored total. Counter
    // names carry `_total` themselves: prom-client adds it only in the OpenMetrics format.
    const gauge = (name: string, help: string, labelNames: string[], samples: (m: MetricsInput) => Samples) =>
      new Gauge({
        name: METRICS_PREFIX + name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const [labels, value] of samples(snapshot())) this.set(labels, Number.isFinite(value) ? value : NaN);
        },
      });
    const counter = (name: string, help: string, labelNames: string[], samples: (m: MetricsInput) => Samples) =>
      new Counter({
        name: METRICS_PREFIX + name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const [labels, value] of samples(snapshot())) this.inc(labels, Number.isFinite(value) && value > 0 ? value : 0);
        },
      });

    gauge('devices', 'Known devices by enrollment status.', ['status'], (m) => ['pending', 'active', 'revoked'].map((s) => [{ status: s }, m.devices.filter((d) => d.status === s).length]));
    gauge('devices_online', 'Devices connected now.', [], (m) => [[{}, m.devices.filter((d) => d.online).length]]);
    counter('device_bytes_total', 'Wire bytes per device and direction (frames, encrypted).', ['device', 'direction'], (m) =>
      m.devices.flatMap((d): Samples => [[{ device: d.id, direction: 'in' }, d.bytesIn], [{ device: d.id, direction: 'out' }, d.bytesOut]]),
    );
    gauge('device_last_seen_seconds', 'Unix time of the last authenticated frame from each device.', ['device'], (m) => m.devices.filter((d) => d.lastSeen).map((d) => [{ device: d.id }, d.lastSeen! / 1000]));
    gauge('job_round', 'Last completed round of the job.', ['job'], (m) => [[{ job: m.job.name }, m.job.round]]);
    gauge('job_rounds', 'Rounds the job runs.', ['job'], (m) => [[{ job: m.job.name }, m.job.rounds]]);
    gauge('job_running', '1 while the job is running.', ['job', 'state'], (m) => [[{ job: m.job.name, state: m.job.state }, m.job.state === 'running' ? 1 : 0]]);
    gauge('student_accuracy', 'Held-out accuracy of the latest student.', ['job'], (m) => (m.job.accuracy === undefined ? [] : [[{ job: m.job.name }, m.job.accuracy]]));
    gauge('round_seconds', 'Duration of the last round by phase.', ['phase'], (m) => {
      const s = m.job.history[m.job.history.length - 1]?.seconds;
      return s ? [[{ phase: 'queries' }, s.queries], [{ phase: 'generator' }, s.generator], [{ phase: 'student' }, s.student]] : [];
    });
    counter('replies_missed_total', 'Device replies that failed or missed the deadline.', ['reason'], (m) => {
      const p = m.job.history.flatMap((r) => r.participation ?? []);
      return [[{ reason: 'failed' }, p.reduce((a, x) => a + x.failed, 0)], [{ reason: 'late' }, p.reduce((a, x) => a + x.late, 0)]];
    });
    counter('frames_accepted_total', 'Frames that opened.', [], (m) => [[{}, m.codec.accepted]]);
    counter('frames_rejected_total', 'Frames refused, by reason.', ['code'], (m) => Object.entries(m.codec.rejected).map(([code, n]) => [{ code }, n ?? 0]));
    gauge('audit_rows', 'Rows in the audit log.', [], (m) => [[{}, m.auditRows]]);
    counter('late_replies_total', 'Replies that arrived after their deadline.', [], (m) => [[{}, m.transport.lateReplies]]);
  }

  /** One scrape: a single snapshot of the state feeds every metric. */
  async scrape(): Promise<string> {
    this.snap = this.source();
    try {
      return await this.registry.metrics();
    } finally {
      this.snap = undefined;
    }
  }
}
