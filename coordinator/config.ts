/**
 * coordinator.json: every option of `distillery coordinator start`, its default, and validation that names
 * the bad field (`coordinator.ws.port: must be an integer in 0..65535, got "80a"`). With no file at all the
 * coordinator runs on embedded defaults: ws on 127.0.0.1, an embedded aedes broker, ./distillery-data.
 * Documented field by field in docs/coordinator.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PEER_ID_PATTERN } from '../shared/protocol/messages.js';
import { bool, ConfigError, int, isObj, oneOf, section, show, str } from '../shared/config/fields.js';

export { ConfigError };

/** The distillation job the coordinator runs with its fleet. */
export interface JobConfig {
  /** A scenario file whose student spec, distill settings and dataset (for evaluation) are used. */
  scenario?: string;
  /** Student model spec (a preset name or a spec object); overrides the scenario's. */
  student?: unknown;
  /** Distill settings merged over the scenario's (see docs/distillation.md). */
  distill?: Record<string, unknown>;
  seed: number;
  /** Held-out data the coordinator scores students on; `false` for none. Default: the scenario's dataset. */
  evaluation?: { dataset: string; splitSeed?: number; limit?: number } | false;
  /** Devices with known capabilities needed before the first round starts. */
  minDevices: number;
  /** Replies needed per query: a count (>= 1) or a fraction of the job's devices (0 < q < 1). */
  quorum: number;
  /** How long a query waits for every device before going on with a quorum (ms). */
  deadlineMs: number;
  /** Hard limit of one device request (ms). */
  queryTimeoutMs: number;
  /** Element type devices answer in. */
  replyDtype: 'float32' | 'float16';
  /** Pause before a round that failed for lack of quorum is retried from the last checkpoint (ms). */
  retryMs: number;
}

/** The whole coordinator configuration, defaults filled in. */
export interface CoordinatorConfig {
  dataDir: string;
  fleet: string;
  /** Coordinator key file; generated (0600) on first start. Default <dataDir>/coordinator.key. */
  keyFile: string;
  ws: { enabled: boolean; host: string; port: number; path: string; heartbeatMs: number };
  /** `url` connects to an external broker (Mosquitto, EMQX); without it an embedded aedes broker listens on host:port. */
  mqtt: { enabled: boolean; url?: string; host: string; port: number };
  http: { enabled: boolean; host: string; port: number };
  enrollment: {
    /** Public identity files (.pub) of devices approved in advance. */
    preapproved: string[];
    /** Accept every new device without approval (development only). */
    autoApprove: boolean;
    maxPending: number;
  };
  job: JobConfig;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** The job run when the config names none: the digits scenario that ships with Distillery. */
export const DEFAULT_SCENARIO = new URL('../simulations/scenarios/digits-dir0.5.json', import.meta.url).pathname;

function parseJob(raw: unknown, path: string, base: string): JobConfig {
  const j = section(raw, path, ['scenario', 'student', 'distill', 'seed', 'evaluation', 'minDevices', 'quorum', 'deadlineMs', 'queryTimeoutMs', 'replyDtype', 'retryMs']);
  const job: JobConfig = {
    seed: int(j.seed, `${path}.seed`, 1, 0),
    minDevices: int(j.minDevices, `${path}.minDevices`, 1, 1),
    quorum: j.quorum === undefined ? 0.6 : (j.quorum as number),
    deadlineMs: int(j.deadlineMs, `${path}.deadlineMs`, 10_000, 0),
    queryTimeoutMs: int(j.queryTimeoutMs, `${path}.queryTimeoutMs`, 60_000, 1, 3_600_000),
    replyDtype: oneOf(j.replyDtype, `${path}.replyDtype`, 'float32', ['float32', 'float16'] as const),
    retryMs: int(j.retryMs, `${path}.retryMs`, 5000, 0),
  };
  if (typeof job.quorum !== 'number' || !(job.quorum > 0) || (job.quorum >= 1 && !Number.isInteger(job.quorum)))
    throw new ConfigError(`${path}.quorum: must be a fraction in (0, 1) or a whole count >= 1, got ${show(j.quorum)}`);
  if (j.scenario !== undefined) job.scenario = resolve(base, str(j.scenario, `${path}.scenario`, ''));
  if (j.student !== undefined) job.student = j.student;
  if (j.distill !== undefined) {
    if (!isObj(j.distill)) throw new ConfigError(`${path}.distill: must be an object, got ${show(j.distill)}`);
    job.distill = j.distill;
  }
  if (j.evaluation === false) job.evaluation = false;
  else if (j.evaluation !== undefined) {
    const e = section(j.evaluation, `${path}.evaluation`, ['dataset', 'splitSeed', 'limit']);
    job.evaluation = { dataset: str(e.dataset, `${path}.evaluation.dataset`, '') };
    if (e.splitSeed !== undefined) job.evaluation.splitSeed = int(e.splitSeed, `${path}.evaluation.splitSeed`, 0, 0);
    if (e.limit !== undefined) job.evaluation.limit = int(e.limit, `${path}.evaluation.limit`, 0, 1);
  }
  if (job.scenario === undefined && job.student === undefined) throw new ConfigError(`${path}: give a "scenario" file or a "student" spec`);
  return job;
}

/**
 * Fills defaults and validates. Relative paths resolve against `base` (the config file's folder, or the
 * working directory when there is no file).
 */
export function parseCoordinatorConfig(raw: unknown, base = process.cwd(), path = 'coordinator'): CoordinatorConfig {
  const c = section(raw ?? {}, path, ['dataDir', 'fleet', 'keyFile', 'ws', 'mqtt', 'http', 'enrollment', 'job', 'logLevel']);
  const dataDir = resolve(base, str(c.dataDir, `${path}.dataDir`, './distillery-data'));
  const ws = section(c.ws, `${path}.ws`, ['enabled', 'host', 'port', 'path', 'heartbeatMs']);
  const mqtt = section(c.mqtt, `${path}.mqtt`, ['enabled', 'url', 'host', 'port']);
  const http = section(c.http, `${path}.http`, ['enabled', 'host', 'port']);
  const en = section(c.enrollment, `${path}.enrollment`, ['preapproved', 'autoApprove', 'maxPending']);
  const preapproved = en.preapproved ?? [];
  if (!Array.isArray(preapproved) || preapproved.some((p) => typeof p !== 'string' || !p))
    throw new ConfigError(`${path}.enrollment.preapproved: must be a list of .pub file paths, got ${show(en.preapproved)}`);
  const config: CoordinatorConfig = {
    dataDir,
    fleet: str(c.fleet, `${path}.fleet`, 'default', PEER_ID_PATTERN),
    keyFile: resolve(base, str(c.keyFile, `${path}.keyFile`, resolve(dataDir, 'coordinator.key'))),
    ws: {
      enabled: bool(ws.enabled, `${path}.ws.enabled`, true),
      host: str(ws.host, `${path}.ws.host`, '127.0.0.1'),
      port: int(ws.port, `${path}.ws.port`, 7370, 0, 65535),
      path: str(ws.path, `${path}.ws.path`, '/distillery', /^\/[A-Za-z0-9_\-/]*$/),
      heartbeatMs: int(ws.heartbeatMs, `${path}.ws.heartbeatMs`, 15_000, 100),
    },
    mqtt: {
      enabled: bool(mqtt.enabled, `${path}.mqtt.enabled`, true),
      host: str(mqtt.host, `${path}.mqtt.host`, '127.0.0.1'),
      port: int(mqtt.port, `${path}.mqtt.port`, 7371, 0, 65535),
    },
    http: {
      enabled: bool(http.enabled, `${path}.http.enabled`, true),
      host: str(http.host, `${path}.http.host`, '127.0.0.1'),
      port: int(http.port, `${path}.http.port`, 7372, 0, 65535),
    },
    enrollment: {
      preapproved: (preapproved as string[]).map((p) => resolve(base, p)),
      autoApprove: bool(en.autoApprove, `${path}.enrollment.autoApprove`, false),
      maxPending: int(en.maxPending, `${path}.enrollment.maxPending`, 1000, 0),
    },
    job: parseJob(c.job ?? { scenario: DEFAULT_SCENARIO }, `${path}.job`, base),
    logLevel: oneOf(c.logLevel, `${path}.logLevel`, 'info', ['debug', 'info', 'warn', 'error'] as const),
  };
  if (mqtt.url !== undefined) {
    const url = str(mqtt.url, `${path}.mqtt.url`, '');
    if (!/^(mqtt|mqtts|ws|wss|tcp):\/\/[^\s]+$/.test(url)) throw new ConfigError(`${path}.mqtt.url: must be a broker URL like mqtt://127.0.0.1:1883, got ${show(url)}`);
    config.mqtt.url = url;
  }
  if (!config.ws.enabled && !config.mqtt.enabled) throw new ConfigError(`${path}: enable at least one of ws and mqtt, or no device can connect`);
  return config;
}

/** Reads and validates a config file; no file means every default. */
export function loadCoordinatorConfig(file?: string): CoordinatorConfig {
  if (file === undefined) return parseCoordinatorConfig({});
  if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseCoordinatorConfig(raw, resolve(file, '..'));
}
