/**
 * The coordinator's HTTP JSON API: status, devices (list, approve, revoke), enrollment tokens, rounds,
 * models (versions, files, publish), the audit log and the latest synthetic samples. Reads are open on the
 * (loopback by default) listener; every POST needs `Authorization: Bearer <dataDir/api.token>`. Input is
 * checked before anything changes, and refusals name what was wrong (docs/coordinator.md lists them).
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../shared/protocol/clock.js';
import { PEER_ID_PATTERN } from '../../shared/protocol/messages.js';
import type { FleetManager } from '../fleet.js';
import { MODEL_ID_PATTERN, versionDir, type ModelRegistry } from '../model-registry.js';
import { publishVersion } from '../publisher.js';
import type { JobRunner } from '../runner.js';
import type { FleetStore } from '../store.js';
import type { Transport } from '../../shared/transport/transport.js';
import { HttpError, type RequestContext, type Route } from './server.js';

/** What the API reads and changes. */
export interface ApiDeps {
  info: () => Record<string, unknown>;
  store: FleetStore;
  fleet: FleetManager;
  runner: JobRunner;
  models: ModelRegistry;
  transport: Transport;
  samplesFile: string;
  token: string;
  clock: Clock;
  /** Drops a revoked device's live connection (ws); optional. */
  disconnect?: (id: string) => void;
}

const MODEL_FILES: Record<string, string> = {
  'model.json': 'application/json',
  'weights.bin': 'application/octet-stream',
  'student.dq8': 'application/octet-stream',
  'metrics.json': 'application/json',
  'lineage.json': 'application/json',
};

function deviceId(ctx: RequestContext): string {
  const id = ctx.params.id;
  if (!PEER_ID_PATTERN.test(id)) throw new HttpError(400, 'bad_device_id', `device id ${JSON.stringify(id.slice(0, 80))} must match ${PEER_ID_PATTERN}`);
  return id;
}

function modelId(ctx: RequestContext): string {
  const id = ctx.params.model;
  if (!MODEL_ID_PATTERN.test(id) || id === '.' || id === '..') throw new HttpError(400, 'bad_model_id', `model id ${JSON.stringify(id.slice(0, 80))} must match ${MODEL_ID_PATTERN} and not be . or ..`);
  return id;
}

function version(ctx: RequestContext): number | undefined {
  const v = ctx.params.version;
  if (v === 'latest') return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new HttpError(400, 'bad_version', `version ${JSON.stringify(v.slice(0, 40))} must be a whole number or "latest"`);
  return Number(v);
}

/** The API's routes over `deps`. */
export function apiRoutes(deps: ApiDeps): Route[] {
  const { store, fleet, models } = deps;
  const authorize = (ctx: RequestContext) => {
    const given = Buffer.from(String(ctx.headers.authorization ?? '').replace(/^Bearer /, ''));
    const want = Buffer.from(deps.token);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new HttpError(401, 'unauthorized', 'this request changes state: send Authorization: Bearer <the token in <dataDir>/api.token>');
  };
  const known = (id: string) => {
    const d = fleet.devices().find((x) => x.id === id);
    if (!d) throw new HttpError(404, 'unknown_device', `no device ${id}`);
    return d;
  };
  const meta = (ctx: RequestContext) => {
    const id = modelId(ctx);
    const m = models.get(id, version(ctx));
    if (!m) throw new HttpError(404, 'unknown_model', `no version ${ctx.params.version} of model ${id}; known models: ${models.models().join(', ') || 'none'}`);
    return m;
  };
  const post = (path: RegExp, handler: Route['handler']): Route => ({ method: 'POST', path, handler: async (ctx) => (authorize(ctx), handler(ctx)) });

  return [
    { method: 'GET', path: /^\/api\/status$/, handler: () => ({ json: { ...deps.info(), job: deps.runner.status(), devices: countBy(fleet.devices()) } }) },
    { method: 'GET', path: /^\/api\/devices$/, handler: () => ({ json: fleet.devices() }) },
    { method: 'GET', path: /^\/api\/devices\/(?<id>[^/]+)$/, handler: (ctx) => ({ json: known(deviceId(ctx)) }) },
    post(/^\/api\/devices\/(?<id>[^/]+)\/approve$/, async (ctx) => {
      const id = deviceId(ctx);
      await ctx.json();
      if (known(id).status === 'revoked') throw new HttpError(409, 'device_revoked', `device ${id} is revoked; a revoked key cannot be approved again (enroll a new key)`);
      store.approve(id, deps.clock.now());
      return { json: known(id) };
    }),
    post(/^\/api\/devices\/(?<id>[^/]+)\/revoke$/, async (ctx) => {
      const id = deviceId(ctx);
      const body = await ctx.json();
      if (body.reason !== undefined && (typeof body.reason !== 'string' || body.reason.length > 256)) throw new HttpError(400, 'bad_reason', 'reason must be a string of at most 256 characters');
      if (known(id).status === 'revoked') throw new HttpError(409, 'device_revoked', `device ${id} is already revoked`);
      store.revoke(id, (body.reason as string | undefined) ?? 'revoked by operator', deps.clock.now());
      deps.disconnect?.(id);
      return { json: known(id) };
    }),
    post(/^\/api\/tokens$/, async (ctx) => {
      const body = await ctx.json();
      const ttl = body.ttlSeconds ?? 3600;
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 86400) throw new HttpError(400, 'bad_ttl', `ttlSeconds must be a whole number in 1..${30 * 86400}, got ${JSON.stringify(ttl)}`);
      return { status: 201, json: { token: store.issueToken({ ttlMs: ttl * 1000, now: deps.clock.now() }), expiresAt: deps.clock.now() + ttl * 1000 } };
    }),
    { method: 'GET', path: /^\/api\/rounds$/, handler: () => ({ json: deps.runner.status().history }) },
    { method: 'GET', path: /^\/api\/models$/, handler: () => ({ json: models.models().map((id) => ({ modelId: id, versions: models.versions(id).map((v) => v.version), latest: models.get(id) })) }) },
    { method: 'GET', path: /^\/api\/models\/(?<model>[^/]+)$/, handler: (ctx) => ({ json: models.versions(modelId(ctx)) }) },
    { method: 'GET', path: /^\/api\/models\/(?<model>[^/]+)\/(?<version>[^/]+)$/, handler: (ctx) => ({ json: meta(ctx) }) },
    {
      method: 'GET',
      path: /^\/api\/models\/(?<model>[^/]+)\/(?<version>[^/]+)\/(?<file>[^/]+)$/,
      handler: (ctx) => {
        const m = meta(ctx);
        const type = Object.hasOwn(MODEL_FILES, ctx.params.file) ? MODEL_FILES[ctx.params.file] : undefined;
        if (!type) throw new HttpError(400, 'bad_file', `file must be one of ${Object.keys(MODEL_FILES).join(', ')}`);
        const file = join(versionDir(models.root, m.modelId, m.version), ctx.params.file);
        if (!existsSync(file)) throw new HttpError(404, 'no_such_file', `version ${m.version} of ${m.modelId} has no ${ctx.params.file}`);
        return { body: readFileSync(file), type };
      },
    },
    post(/^\/api\/models\/(?<model>[^/]+)\/(?<version>[^/]+)\/publish$/, async (ctx) => {
      const m = meta(ctx);
      const body = await ctx.json();
      const devices = body.devices ?? fleet.ready().map((d) => d.id);
      if (!Array.isArray(devices) || devices.some((d) => typeof d !== 'string' || !PEER_ID_PATTERN.test(d))) throw new HttpError(400, 'bad_devices', 'devices must be a list of device ids');
      for (const d of devices as string[]) if (known(d).status !== 'active') throw new HttpError(409, 'device_not_active', `device ${d} is ${known(d).status}`);
      return { json: { modelId: m.modelId, version: m.version, results: await publishVersion(deps.transport, models, devices as string[], m.modelId, m.version) } };
    }),
    {
      method: 'GET',
      path: /^\/api\/audit$/,
      handler: (ctx) => {
        const limit = Number(ctx.query.get('limit') ?? 100);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new HttpError(400, 'bad_limit', 'limit must be a whole number in 1..10000');
        const peer = ctx.query.get('peer') ?? undefined;
        if (peer !== undefined && !PEER_ID_PATTERN.test(peer)) throw new HttpError(400, 'bad_device_id', `peer must match ${PEER_ID_PATTERN}`);
        store.audit.flush(store);
        return { json: store.audit.list({ peer, limit }) };
      },
    },
    {
      method: 'GET',
      path: /^\/api\/samples\.png$/,
      handler: () => {
        if (!existsSync(deps.samplesFile)) throw new HttpError(404, 'no_samples', 'no round has finished yet');
        return { body: readFileSync(deps.samplesFile), type: 'image/png' };
      },
    },
  ];
}

function countBy(devices: { status: string; online: boolean }[]): Record<string, number> {
  const out: Record<string, number> = { total: devices.length, online: 0, active: 0, pending: 0, revoked: 0 };
  for (const d of devices) {
    out[d.status]++;
    if (d.online) out.online++;
  }
  return out;
}
