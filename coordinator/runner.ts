/**
 * Runs the coordinator's distillation job against the live fleet: waits for enough devices, fixes the
 * job's device set (recorded on disk, so a restarted coordinator resumes with the same devices in the same
 * order and the same checkpoint means the same run), starts the engine worker, and retries from the last
 * checkpoint when a round fails for lack of quorum. Rounds go on without stragglers (deadline + quorum).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import type { TeacherInfo } from '../shared/distill/port.js';
import { teacherInfoFrom } from '../shared/distill/wire.js';
import type { Transport } from '../shared/transport/transport.js';
import type { JobConfig } from './config.js';
import type { RoundReport } from './engine/distiller.js';
import { startEngine, type EngineHandle } from './engine-host.js';
import type { FromEngine } from './engine-messages.js';
import type { FleetManager } from './fleet.js';
import { quorumCount, type JobSpec } from './job.js';
import type { StructuredLogger } from '../shared/log.js';
import { RemoteTeacherPort } from './remote-teacher.js';

/** Where a job stands. */
export type JobState = 'waiting' | 'running' | 'retrying' | 'done' | 'stopping' | 'stopped';

/** A snapshot for the API and logs. */
export interface JobStatus {
  name: string;
  state: JobState;
  round: number;
  rounds: number;
  step?: { step: number; steps: number };
  devices: string[];
  history: RoundReport[];
  accuracy?: number;
  lastError?: string;
}

/** Options of {@link JobRunner}. */
export interface RunnerOptions {
  job: JobSpec;
  config: JobConfig;
  fleet: FleetManager;
  transport: Transport;
  /** <dataDir>/job: checkpoint/, devices.json, samples.png. */
  dir: string;
  /** The model registry's root (<dataDir>/models). */
  modelsDir: string;
  log: StructuredLogger;
  /** Every engine event, for the model registry, metrics and the dashboard. */
  onEvent?: (e: FromEngine) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The job loop; `run()` resolves when the job is done or stopped. */
export class JobRunner {
  private state: JobState = 'waiting';
  private engine?: EngineHandle;
  private stopping = false;
  private wake?: () => void;
  private readonly s: JobStatus;
  private round = 0;

  constructor(private readonly o: RunnerOptions) {
    this.s = { name: o.job.name, state: 'waiting', round: 0, rounds: o.job.distill.rounds, devices: [], history: this.checkpointedHistory() };
    this.s.round = this.s.history.length ? this.s.history[this.s.history.length - 1].round : 0;
    o.fleet.onChange(() => this.wake?.());
  }

  status(): JobStatus {
    return { ...this.s, state: this.state, history: [...this.s.history] };
  }

  private checkpointedHistory(): RoundReport[] {
    const file = join(this.o.dir, 'checkpoint', 'state.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { state: { history: RoundReport[] } }).state.history : [];
  }

  /** The job's devices: recorded at its first start, or (first start) the ready devices, sorted by id. */
  private async chooseDevices(): Promise<{ id: string; info: TeacherInfo }[] | undefined> {
    const file = join(this.o.dir, 'devices.json');
    if (existsSync(file)) {
      // Resuming: wait for a quorum of the job's devices to be back, or the first round would only time out.
      const devices = JSON.parse(readFileSync(file, 'utf8')) as { id: string; info: TeacherInfo }[];
      const back = devices.filter((d) => this.o.fleet.isOnline(d.id)).length;
      return back >= quorumCount(this.o.config.quorum, devices.length) ? devices : undefined;
    }
    const ready = this.o.fleet.ready();
    if (ready.length < this.o.config.minDevices) return undefined;
    const first = ready[0].capabilities!;
    const same = ready.filter((d) => d.capabilities!.numClasses === first.numClasses && JSON.stringify(d.capabilities!.inputShape) === JSON.stringify(first.inputShape));
    if (same.length < ready.length) this.o.log.warn('devices with other input shapes or class counts left out of the job', { left: ready.filter((d) => !same.includes(d)).map((d) => d.id) });
    if (same.length < this.o.config.minDevices) return undefined;
    const devices = same.map((d) => ({ id: d.id, info: teacherInfoFrom(d.capabilities!) })).sort((a, b) => (a.id < b.id ? -1 : 1));
    writeFileAtomic(file, JSON.stringify(devices));
    return devices;
  }

  /** Sleeps until the fleet changes, `ms` pass, or stop() is called. */
  private async idle(ms: number): Promise<void> {
    await Promise.race([sleep(ms), new Promise<void>((r) => (this.wake = r))]);
    this.wake = undefined;
  }

  async run(): Promise<JobStatus> {
    const c = this.o.config;
    while (!this.stopping && this.s.round < this.s.rounds) {
      const devices = await this.chooseDevices();
      if (!devices) {
        this.state = 'waiting';
        await this.idle(1000);
        continue;
      }
      this.s.devices = devices.map((d) => d.id);
      const ports = new Map(devices.map((d) => [d.id, new RemoteTeacherPort({ transport: this.o.transport, deviceId: d.id, timeoutMs: c.queryTimeoutMs, replyDtype: c.replyDtype, round: () => this.round })]));
      const quorum = { min: quorumCount(c.quorum, devices.length), deadlineMs: c.deadlineMs };
      this.state = 'running';
      const blackBox = devices.filter((d) => !d.info.gradients).map((d) => d.id);
      // Logits-only devices get their gradients estimated by forward differences on seeded probes (engine-worker.ts).
      this.o.log.info('job starting', { job: this.s.name, devices: devices.length, quorum: quorum.min, fromRound: this.s.round, ...(blackBox.length ? { blackBox, probeDirections: this.o.job.distill.zerothOrder.directions } : {}) });
      this.engine = startEngine({ job: this.o.job, devices, quorum, checkpointDir: join(this.o.dir, 'checkpoint'), modelsDir: this.o.modelsDir, modelId: this.o.job.modelId, outDir: this.o.dir }, ports, (e) => this.event(e));
      const outcome = await this.engine.finished;
      this.engine = undefined;
      if (outcome.type === 'done') {
        this.state = 'done';
        this.s.accuracy = outcome.accuracy;
        this.o.log.info('job done', { job: this.s.name, rounds: outcome.state.round, accuracy: outcome.accuracy });
        return this.status();
      }
      if (outcome.type === 'failed') {
        this.s.lastError = outcome.error.message;
        this.o.log.error('job round failed; retrying from the last checkpoint', { error: outcome.error.message, code: outcome.error.code, retryMs: c.retryMs });
        if (this.stopping) break;
        this.state = 'retrying';
        await this.idle(c.retryMs);
      }
    }
    this.state = this.s.round >= this.s.rounds ? 'done' : 'stopped';
    return this.status();
  }

  private event(e: FromEngine): void {
    if (e.type === 'ready') this.round = e.resumedFrom + 1;
    if (e.type === 'step') {
      this.s.step = { step: e.step, steps: e.steps };
      this.o.log.debug('step', { round: e.round, step: e.step, steps: e.steps });
    }
    if (e.type === 'ready') this.o.log.info('engine ready', { resumedFrom: e.resumedFrom });
    if (e.type === 'round') {
      this.s.round = e.report.round;
      this.round = e.report.round + 1;
      this.s.history.push(e.report);
      this.s.accuracy = e.report.studentAccuracy;
      const late = e.report.participation?.reduce((a, p) => a + p.late + p.failed, 0) ?? 0;
      const secs = e.report.seconds.queries + e.report.seconds.generator + e.report.seconds.student;
      this.o.log.info('round done', { round: e.report.round, rounds: e.report.rounds, accuracy: e.report.studentAccuracy, seconds: secs, queriesSeconds: e.report.seconds.queries, missedReplies: late });
    }
    this.o.onEvent?.(e);
  }

  /** Finishes and checkpoints the round in progress, then stops; past `graceMs` the worker is terminated. */
  async stop(graceMs = 30_000): Promise<void> {
    this.stopping = true;
    this.state = 'stopping';
    this.wake?.();
    await this.engine?.stop(graceMs);
  }
}
