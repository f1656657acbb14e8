/**
 * The long-running coordinator: its identity, the SQLite fleet registry and audit log, ws and MQTT links
 * combined under one secure transport, the fleet manager answering devices, and the job runner driving
 * the engine worker. `startCoordinator` wires them from a validated config; `stop` shuts down gracefully
 * (the round in progress is finished and checkpointed, then connections close and the database flushes).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../shared/protocol/clock.js';
import { generateKeyFile, loadKeyFile, loadPublicIdentity, SecureChannel } from '../shared/security/index.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { connectMqttHub, listenWsHub, startEmbeddedBroker, createTransport, type EmbeddedBroker, type Link, type Transport, type WsHub } from '../shared/transport/index.js';
import type { CoordinatorConfig } from './config.js';
import { resolveJob } from './job.js';
import { combineLinks } from './links.js';
import { jsonLogger, type StructuredLogger } from '../shared/log.js';
import { observedCodec } from './observed-codec.js';
import { FleetStore } from './store.js';
import { FleetManager } from './fleet.js';
import { JobRunner, type JobStatus } from './runner.js';
import type { FromEngine } from './engine-messages.js';
import { ModelRegistry } from './model-registry.js';
import { publishVersion } from './publisher.js';
import { startApi } from './http/index.js';
import { apiToken } from './api-token.js';

/** Where a running coordinator can be reached; also written to <dataDir>/endpoints.json. */
export interface Endpoints {
  coordinatorId: string;
  fleet: string;
  publicKeyFile: string;
  ws?: string;
  mqtt?: string;
  http?: string;
  pid: number;
}

/** A running coordinator. */
export interface Coordinator {
  readonly endpoints: Endpoints;
  readonly store: FleetStore;
  readonly fleet: FleetManager;
  readonly runner: JobRunner;
  readonly models: ModelRegistry;
  readonly transport: Transport;
  /** Settles when the job is done or stopped. */
  readonly job: Promise<JobStatus>;
  /** Graceful shutdown; resolves once everything is closed. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startCoordinator} that are not configuration. */
export interface StartOptions {
  log?: StructuredLogger;
  clock?: Clock;
  /** Engine events, after the runner has seen them (model registry, metrics, dashboard). */
  onEngineEvent?: (e: FromEngine) => void;
}

/** Starts a coordinator from a validated config. */
export async function startCoordinator(config: CoordinatorConfig, o: StartOptions = {}): Promise<Coordinator> {
  const log = o.log ?? jsonLogger({ level: config.logLevel });
  const clock = o.clock ?? systemClock;
  const job = resolveJob(config.job); // before anything listens: a bad setting fails fast
  mkdirSync(config.dataDir, { recursive: true });
  if (!existsSync(config.keyFile)) {
    const created = await generateKeyFile(config.keyFile);
    log.info('coordinator key created', { keyFile: created.path, publicKeyFile: created.publicPath, id: created.identity.id });
  }
  const identity = await loadKeyFile(config.keyFile);
  const store = new FleetStore(join(config.dataDir, 'fleet.db'), config.enrollment.maxPending);
  const cleanup: (() => Promise<void> | void)[] = [() => store.close()];
  try {
    for (const file of config.enrollment.preapproved) {
      const p = await loadPublicIdentity(file);
      const known = store.lookup(p.id);
      if (known?.status === 'revoked') log.warn('pre-approved device is revoked; left revoked', { device: p.id, file });
      else if (known?.status !== 'active') store.preapprove(p, clock.now());
    }
    const channel = new SecureChannel({ identity, directory: store, acceptEnrollment: true, clock, logger: log });
    const codec = observedCodec(channel, (r) => store.audit.record(r), clock);
    const links: Record<string, Link> = {};
    const endpoints: Endpoints = { coordinatorId: identity.id, fleet: config.fleet, publicKeyFile: `${config.keyFile}.pub`, pid: process.pid };
    if (config.ws.enabled) {
      const hub = await listenWsHub({ id: identity.id, host: config.ws.host, port: config.ws.port, path: config.ws.path, heartbeatMs: config.ws.heartbeatMs });
      cleanup.unshift(() => hub.close());
      links.ws = hub;
      endpoints.ws = hub.url;
    }
    if (config.mqtt.enabled) {
      let broker: EmbeddedBroker | undefined;
      if (!config.mqtt.url) {
        broker = await startEmbeddedBroker({ host: config.mqtt.host, port: config.mqtt.port });
        cleanup.unshift(() => broker!.close());
      }
      const url = config.mqtt.url ?? broker!.url;
      const hub = await connectMqttHub({ url, fleet: config.fleet, id: identity.id });
      cleanup.unshift(() => hub.close());
      links.mqtt = hub;
      endpoints.mqtt = url;
    }
    // A device not heard from since start is tried over MQTT, whose broker may hold its session.
    const link = combineLinks(identity.id, links, { fallback: links.mqtt ? 'mqtt' : undefined });
    const transport = createTransport(link, codec, { logger: log });
    cleanup.unshift(() => transport.close());
    const models = new ModelRegistry(join(config.dataDir, 'models'), identity);
    const fleet = new FleetManager({ store, transport, fleet: config.fleet, clock, log: log.child({ component: 'fleet' }), autoApprove: config.enrollment.autoApprove, models });
    transport.handle(fleet.handle);
    cleanup.unshift(() => fleet.close());
    const flush = setInterval(() => store.audit.flush(store), 200);
    cleanup.unshift(() => clearInterval(flush));

    const onEvent = (e: FromEngine) => {
      if (e.type === 'round') models.invalidate(e.modelId, e.version);
      o.onEngineEvent?.(e);
    };
    const runner = new JobRunner({ job, config: config.job, fleet, transport, dir: join(config.dataDir, 'job'), modelsDir: models.root, log: log.child({ component: 'job' }), onEvent });
    if (config.http.enabled) {
      const startedAt = clock.now();
      const http = await startApi({
        host: config.http.host,
        port: config.http.port,
        log: log.child({ component: 'http' }),
        info: () => ({ coordinatorId: identity.id, fleet: config.fleet, endpoints, uptimeSeconds: (clock.now() - startedAt) / 1000 }),
        store,
        fleet,
        runner,
        models,
        transport,
        samplesFile: join(config.dataDir, 'job', 'samples.png'),
        token: apiToken(join(config.dataDir, 'api.token')),
        clock,
        codecStats: () => channel.stats(),
        disconnect: (id) => (links.ws as WsHub | undefined)?.disconnect(id, 'revoked'),
      });
      cleanup.unshift(() => http.close());
      endpoints.http = http.url;
    }
    // The job starts last: anything above that fails leaves no engine worker behind.
    const jobDone = runner.run().then(async (status) => {
      // The finished job's student goes to every device online now; the rest can fetch it (model.fetch).
      if (status.state === 'done' && models.get(job.modelId)) {
        const online = fleet.ready().map((d) => d.id);
        const results = await publishVersion(transport, models, online, job.modelId);
        log.info('model published', { modelId: job.modelId, version: models.get(job.modelId)!.version, acked: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok) });
      }
      return status;
    }).catch((e: unknown) => {
      // The service stays up (API, enrollment) even if the job loop itself broke; the log says why.
      log.error('job loop failed', { error: (e as Error).message, stack: (e as Error).stack });
      return runner.status();
    });
    writeFileAtomic(join(config.dataDir, 'endpoints.json'), JSON.stringify(endpoints, null, 2) + '\n');
    log.info('coordinator started', { ...endpoints, dataDir: config.dataDir, job: job.name, rounds: job.distill.rounds });
    // Devices enrolled before a restart may still be connected to the broker: ask them to report in.
    for (const d of store.list()) if (d.status === 'active') void fleet.probe(d.id);

    let stopped: Promise<void> | undefined;
    return {
      endpoints,
      store,
      fleet,
      runner,
      models,
      transport,
      job: jobDone,
      stop(graceMs = 30_000) {
        stopped ??= (async () => {
          log.info('coordinator stopping', { graceMs });
          await runner.stop(graceMs);
          await jobDone.catch(() => {});
          for (const c of cleanup) await c();
          rmSync(join(config.dataDir, 'endpoints.json'), { force: true });
          log.info('coordinator stopped');
        })();
        return stopped;
      },
    };
  } catch (e) {
    for (const c of cleanup) await Promise.resolve(c()).catch(() => {});
    throw e;
  }
}
