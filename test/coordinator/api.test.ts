/**
 * The HTTP API against a running coordinator with real devices on ws: status, devices, approve and revoke,
 * tokens, metrics and the dashboard's own assets; and bad requests (invalid JSON, an unknown device, a
 * revoked device, path traversal in a model name, a huge body, no token) get a 4xx with a clear message
 * and change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseCoordinatorConfig } from '../../coordinator/config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/service.js';
import { quietLogger } from '../../shared/log.js';
import { apiToken } from '../../coordinator/api-token.js';
import { generateIdentity, pinnedDirectory, publicIdentity, SecureChannel, loadKeyFile, type Identity } from '../../shared/security/index.js';
import { connectWsSpoke, createTransport, type Transport } from '../../shared/transport/index.js';
import { formatPublicIdentity } from '../../shared/security/keyfile.js';
import { writeFileSync } from 'node:fs';
import { initBackend } from '../../shared/compute/backend.js';
import { buildModel } from '../../shared/models/build.js';
import { writeVersion } from '../../coordinator/model-registry.js';
import { register } from 'prom-client';
import { parsePrometheus } from './helpers/prometheus.js';

const tmp = mkdtempSync(join(tmpdir(), 'distillery-api-'));
let c: Coordinator;
let base: string;
let token: string;
const devices: { identity: Identity; transport: Transport }[] = [];

async function connect(identity: Identity): Promise<Transport> {
  const coordinator = publicIdentity(await loadKeyFile(join(tmp, 'data', 'coordinator.key')));
  const link = await connectWsSpoke({ url: c.endpoints.ws!, id: identity.id, hubId: coordinator.id, backoff: { initialMs: 50, maxMs: 200 } });
  return createTransport(link, new SecureChannel({ identity, directory: pinnedDirectory([coordinator]), logger: { warn: () => {} } }), { timeoutMs: 3000, logger: { warn: () => {} } });
}

beforeAll(async () => {
  const approved = generateIdentity();
  writeFileSync(join(tmp, 'approved.pub'), formatPublicIdentity(publicIdentity(approved)));
  const config = parseCoordinatorConfig({
    dataDir: join(tmp, 'data'),
    ws: { port: 0 },
    mqtt: { enabled: false },
    http: { port: 0 },
    enrollment: { preapproved: [join(tmp, 'approved.pub')] },
    job: { student: 'mlp-small', evaluation: false, minDevices: 10 },
  });
  c = await startCoordinator(config, { log: quietLogger });
  base = c.endpoints.http!;
  token = apiToken(join(tmp, 'data', 'api.token'));
  await initBackend(() => {});
  await writeVersion(c.models.root, { modelId: 'm', version: 1, student: buildModel({ kind: 'mlp', hidden: [4] }, { inputShape: [4], numClasses: 2, seed: 1 }), metrics: {}, lineage: {} });
  for (const identity of [approved, generateIdentity()]) {
    const transport = await connect(identity);
    devices.push({ identity, transport });
    await transport.request(c.endpoints.coordinatorId, { type: 'enroll.request', body: { platform: 'test' } });
  }
});
afterAll(async () => {
  await Promise.all(devices.map((d) => d.transport.close()));
  await c?.stop(1000);
  rmSync(tmp, { recursive: true, force: true });
});

const call = async (method: string, path: string, body?: string | object, auth = true) => {
  const r = await fetch(base + path, { method, body: typeof body === 'string' ? body : body && JSON.stringify(body), headers: auth ? { authorization: `Bearer ${token}` } : {} });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type'), text, json: r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : undefined };
};
const state = () => c.store.list().map((d) => `${d.id}:${d.status}`).sort();

describe('coordinator HTTP API', () => {
  it('reports status and devices', async () => {
    const s = await call('GET', '/api/status');
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ coordinatorId: c.endpoints.coordinatorId, fleet: 'default', job: { state: 'waiting', round: 0 }, devices: { total: 2, active: 1, pending: 1, online: 2 } });
    const list = (await call('GET', '/api/devices')).json as { id: string; status: string }[];
    expect(list.map((d) => d.status).sort()).toEqual(['active', 'pending']);
    expect((await call('GET', `/api/devices/${devices[1].identity.id}`)).json).toMatchObject({ status: 'pending', online: true });
  });

  it('refuses bad requests with a 4xx and a clear message, changing nothing', async () => {
    const before = state();
    const pending = devices[1].identity.id;
    const cases: [string, string, string | object | undefined, boolean, number, string, RegExp][] = [
      ['POST', `/api/devices/${pending}/approve`, '{"reason": ', true, 400, 'bad_json', /request body is not valid JSON/],
      ['POST', `/api/devices/${pending}/approve`, undefined, false, 401, 'unauthorized', /Authorization: Bearer/],
      ['POST', '/api/devices/0123456789abcdef0123456789abcdef/approve', undefined, true, 404, 'unknown_device', /no device 0123456789abcdef/],
      ['POST', '/api/devices/..%2F..%2Fetc/approve', undefined, true, 400, 'bad_device_id', /device id "..\/..\/etc" must match/],
      ['GET', '/api/models/..%2F..%2Fdata/1', undefined, true, 400, 'bad_model_id', /model id "..\/..\/data" must match/],
      ['GET', '/api/models/..', undefined, true, 404, 'not_found', /no route/],
      ['GET', '/api/models/student/1/..%2F..%2F..%2Fcoordinator.key', undefined, true, 404, 'unknown_model', /no version 1 of model student/],
      ['GET', '/api/models/student/x1', undefined, true, 400, 'bad_version', /must be a whole number or "latest"/],
      ['GET', '/api/models/m/1/..%2F..%2F..%2Fapi.token', undefined, true, 400, 'bad_file', /file must be one of model\.json, weights\.bin/],
      ['POST', '/api/tokens', JSON.stringify({ ttlSeconds: 60, pad: 'x'.repeat(1 << 20) }), true, 413, 'body_too_large', /exceeds the limit of 65536/],
      ['POST', '/api/tokens', { ttlSeconds: -5 }, true, 400, 'bad_ttl', /ttlSeconds must be a whole number/],
      ['GET', '/api/tokens', undefined, true, 405, 'method_not_allowed', /GET is not allowed on \/api\/tokens; use POST/],
      ['GET', '/api/nothing', undefined, true, 404, 'not_found', /no route for GET \/api\/nothing/],
      ['GET', '/api/audit?limit=0', undefined, true, 400, 'bad_limit', /limit must be a whole number/],
    ];
    for (const [method, path, body, auth, status, code, message] of cases) {
      const r = await call(method, path, body, auth);
      expect({ path, status: r.status, code: r.json?.error?.code }).toEqual({ path, status, code });
      expect(r.json.error.message).toMatch(message);
    }
    expect(state()).toEqual(before);
    expect((c.store.db.prepare('SELECT COUNT(*) AS n FROM tokens').get() as { n: number }).n).toBe(0);
  });

  it('approves a pending device, revokes one, and refuses to touch a revoked device again', async () => {
    const [a, b] = devices.map((d) => d.identity.id);
    expect((await call('POST', `/api/devices/${b}/approve`)).json).toMatchObject({ id: b, status: 'active' });
    expect(await devices[1].transport.request(c.endpoints.coordinatorId, { type: 'enroll.request', body: {} })).toMatchObject({ type: 'enroll.accept' });
    expect((await call('POST', `/api/devices/${a}/revoke`, { reason: 'lost in the field' })).json).toMatchObject({ status: 'revoked', reason: 'lost in the field' });
    const before = state();
    const again = await call('POST', `/api/devices/${a}/approve`);
    expect(again.status).toBe(409);
    expect(again.json.error).toEqual({ code: 'device_revoked', message: `device ${a} is revoked; a revoked key cannot be approved again (enroll a new key)` });
    expect((await call('POST', `/api/devices/${a}/revoke`)).status).toBe(409);
    expect(state()).toEqual(before);
    // The revoked device is cut off: the coordinator no longer answers it.
    await expect(devices[0].transport.request(c.endpoints.coordinatorId, { type: 'health.ping', body: {} }, { timeoutMs: 500 })).rejects.toThrow();
    const t = await call('POST', '/api/tokens', { ttlSeconds: 60 });
    expect(t.status).toBe(201);
    expect(t.json.token).toMatch(/^dt_/);
  });

  it('serves Prometheus metrics, the audit log and the dashboard from its own assets', async () => {
    const m = await call('GET', '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const p = parsePrometheus(m.text);
    const types = Object.fromEntries([...p.types].filter(([name]) => !/^distillery_(process|nodejs)_/.test(name)));
    expect(types).toEqual({
      distillery_devices: 'gauge',
      distillery_devices_online: 'gauge',
      distillery_device_bytes_total: 'counter',
      distillery_device_last_seen_seconds: 'gauge',
      distillery_job_round: 'gauge',
      distillery_job_rounds: 'gauge',
      distillery_job_running: 'gauge',
      distillery_student_accuracy: 'gauge',
      distillery_round_seconds: 'gauge',
      distillery_replies_missed_total: 'counter',
      distillery_frames_accepted_total: 'counter',
      distillery_frames_rejected_total: 'counter',
      distillery_audit_rows: 'gauge',
      distillery_late_replies_total: 'counter',
    });
    // Every metric is the coordinator's own: prefixed, in its own registry, none in prom-client's global one.
    expect(p.samples.filter((s) => !s.name.startsWith('distillery_'))).toEqual([]);
    expect(register.getMetricsAsArray()).toEqual([]);
    // The fleet as the store has it: a revoked device, an approved one, nothing pending.
    expect([p.value('distillery_devices', { status: 'active' }), p.value('distillery_devices', { status: 'pending' }), p.value('distillery_devices', { status: 'revoked' })]).toEqual([1, 0, 1]);
    const [a, b] = devices.map((d) => d.identity);
    for (const d of [a, b]) {
      expect(p.value('distillery_device_bytes_total', { device: d.id, direction: 'in' })).toBeGreaterThan(0);
      expect(p.value('distillery_device_bytes_total', { device: d.id, direction: 'out' })).toBeGreaterThan(0);
      expect(p.value('distillery_device_last_seen_seconds', { device: d.id })).toBeCloseTo(Date.now() / 1000, -2);
    }
    expect(p.all('distillery_device_bytes_total')).toHaveLength(4);
    expect(p.value('distillery_devices_online')).toBeGreaterThanOrEqual(1);
    expect(p.value('distillery_job_round', { job: 'job' })).toBe(0);
    expect(p.value('distillery_job_running', { job: 'job', state: 'waiting' })).toBe(0);
    expect(p.all('distillery_student_accuracy')).toEqual([]); // no round yet: no sample, only HELP and TYPE
    expect(p.all('distillery_round_seconds')).toEqual([]);
    expect(p.value('distillery_replies_missed_total', { reason: 'late' })).toBe(0);
    expect(p.value('distillery_frames_accepted_total')).toBeGreaterThanOrEqual(3); // two enrollments and the re-enrollment after approval
    expect(p.value('distillery_audit_rows')).toBe(c.store.audit.count());
    expect(p.value('distillery_audit_rows')).toBeGreaterThan(0);
    // prom-client's default process metrics, under the same prefix.
    expect(p.types.get('distillery_process_resident_memory_bytes')).toBe('gauge');
    expect(p.value('distillery_process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(p.types.get('distillery_nodejs_eventloop_lag_seconds')).toBe('gauge');
    // Counters read the store afresh at each scrape: more traffic, larger totals.
    await devices[1].transport.request(c.endpoints.coordinatorId, { type: 'health.ping', body: {} });
    const again = parsePrometheus((await call('GET', '/metrics')).text);
    expect(again.value('distillery_device_bytes_total', { device: b.id, direction: 'in' })).toBeGreaterThan(p.value('distillery_device_bytes_total', { device: b.id, direction: 'in' }));
    expect(again.value('distillery_frames_accepted_total')).toBeGreaterThan(p.value('distillery_frames_accepted_total'));
    const audit = (await call('GET', `/api/audit?peer=${devices[1].identity.id}&limit=5`)).json as { type: string; sha256: string }[];
    expect(audit.length).toBeGreaterThan(0);
    expect(audit[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const file = await call('GET', '/api/models/m/latest/model.json');
    expect(JSON.parse(file.text).modelTopology).toBeDefined();
    const page = await call('GET', '/');
    expect(page.type).toMatch(/^text\/html/);
    expect(page.text).toMatch(/<script src="\/dashboard\.js"><\/script>/);
    const js = await call('GET', '/dashboard.js');
    // Nothing is fetched from elsewhere: the only absolute URL is the SVG namespace name.
    for (const text of [page.text, js.text, (await call('GET', '/dashboard.css')).text])
      expect(text.match(/https?:\/\/[^'"\s)]+/g)?.filter((u) => u !== 'http://www.w3.org/2000/svg') ?? []).toEqual([]);
  });
});
