/**
 * GET /metrics in the Prometheus text exposition format (version 0.0.4). Written out directly for now:
 * prom-client is the intended library but is not a dependency yet; the metric names and types below are
 * the ones it would expose, so switching changes no dashboard.
 */
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

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Renders one scrape. */
export function renderMetrics(m: MetricsInput): string {
  const out: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: [Record<string, string>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 'NaN'}`);
    }
  };
  const byStatus = (s: string) => m.devices.filter((d) => d.status === s).length;
  metric('distillery_devices', 'gauge', 'Known devices by enrollment status.', ['pending', 'active', 'revoked'].map((s) => [{ status: s }, byStatus(s)]));
  metric('distillery_devices_online', 'gauge', 'Devices connected now.', [[{}, m.devices.filter((d) => d.online).length]]);
  metric('distillery_device_bytes_total', 'counter', 'Wire bytes per device and direction (frames, encrypted).', m.devices.flatMap((d) => [[{ device: d.id, direction: 'in' }, d.bytesIn], [{ device: d.id, direction: 'out' }, d.bytesOut]] as [Record<string, string>, number][]));
  metric('distillery_device_last_seen_seconds', 'gauge', 'Unix time of the last authenticated frame from each device.', m.devices.filter((d) => d.lastSeen).map((d) => [{ device: d.id }, d.lastSeen! / 1000]));
  metric('distillery_job_round', 'gauge', 'Last completed round of the job.', [[{ job: m.job.name }, m.job.round]]);
  metric('distillery_job_rounds', 'gauge', 'Rounds the job runs.', [[{ job: m.job.name }, m.job.rounds]]);
  metric('distillery_job_running', 'gauge', '1 while the job is running.', [[{ job: m.job.name, state: m.job.state }, m.job.state === 'running' ? 1 : 0]]);
  if (m.job.accuracy !== undefined) metric('distillery_student_accuracy', 'gauge', 'Held-out accuracy of the latest student.', [[{ job: m.job.name }, m.job.accuracy]]);
  const last = m.job.history[m.job.history.length - 1];
  if (last) {
    const s = last.seconds;
    metric('distillery_round_seconds', 'gauge', 'Duration of the last round by phase.', [[{ phase: 'queries' }, s.queries], [{ phase: 'generator' }, s.generator], [{ phase: 'student' }, s.student]]);
  }
  const missed = m.job.history.flatMap((r) => r.participation ?? []);
  metric('distillery_replies_missed_total', 'counter', 'Device replies that failed or missed the deadline.', [[{ reason: 'failed' }, missed.reduce((a, p) => a + p.failed, 0)], [{ reason: 'late' }, missed.reduce((a, p) => a + p.late, 0)]]);
  metric('distillery_frames_accepted_total', 'counter', 'Frames that opened.', [[{}, m.codec.accepted]]);
  metric('distillery_frames_rejected_total', 'counter', 'Frames refused, by reason.', Object.entries(m.codec.rejected).map(([code, n]) => [{ code }, n ?? 0]));
  metric('distillery_audit_rows', 'gauge', 'Rows in the audit log.', [[{}, m.auditRows]]);
  metric('distillery_late_replies_total', 'counter', 'Replies that arrived after their deadline.', [[{}, m.transport.lateReplies]]);
  metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [[{}, process.memoryUsage().rss]]);
  return out.join('\n') + '\n';
}
