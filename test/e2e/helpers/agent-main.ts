/**
 * A minimal edge agent process for the end-to-end tests (the full agent is the edge-agent issue's): it
 * trains or loads its teacher on its own partition of a scenario's data, connects over ws or MQTT with its
 * key, pins the coordinator's public identity, enrolls, serves the teacher with serveTeacher, and accepts
 * published students (model.publish, acknowledged after loading) until SIGTERM. It logs JSON lines on stdout. Run: node --import tsx agent-main.ts '<options JSON>'.
 */
import { initBackend } from '../../../shared/compute/backend.js';
import { loadDataset } from '../../../shared/data/registry.js';
import { partitionDataset } from '../../../shared/data/partition.js';
import { loadKeyFile, loadPublicIdentity, pinnedDirectory, SecureChannel } from '../../../shared/security/index.js';
import { connectMqttSpoke, connectWsSpoke, createTransport, type Link } from '../../../shared/transport/index.js';
import { capabilitiesBody } from '../../../shared/distill/wire.js';
import { loadPublishedModel } from '../../../shared/models/publish.js';
import type { AnyEnvelope, Draft } from '../../../shared/protocol/envelope.js';
import { LocalTeacher } from '../../../edge-agent/teacher/local-teacher.js';
import { serveTeacher } from '../../../edge-agent/serve-teacher.js';
import { loadScenario } from '../../../simulations/scenario.js';
import { prepareTeacher } from '../../../simulations/teachers.js';

/** Options passed as the first argument. */
export interface AgentOptions {
  keyFile: string;
  coordinatorPub: string;
  url: string;
  fleet: string;
  scenario: string;
  seed: number;
  device: number;
}

const log = (msg: string, fields: Record<string, unknown> = {}) => process.stdout.write(JSON.stringify({ time: Date.now(), msg, ...fields }) + '\n');
const o = JSON.parse(process.argv[2]) as AgentOptions;
const backend = await initBackend(() => {});
const s = loadScenario(o.scenario);
const { train } = loadDataset(s.dataset, { limit: s.limit, splitSeed: o.seed });
const parts = partitionDataset(train, { ...s.partition, seed: o.seed });
const { model } = await prepareTeacher(s, o.seed, train, parts[o.device], o.device, (line) => log('teacher', { line }));
const identity = await loadKeyFile(o.keyFile);
const coordinator = await loadPublicIdentity(o.coordinatorPub);
const fast = { initialMs: 100, maxMs: 1000 };
const link: Link = o.url.startsWith('ws')
  ? await connectWsSpoke({ url: o.url, id: identity.id, hubId: coordinator.id, backoff: fast, connectTimeoutMs: 30_000 })
  : await connectMqttSpoke({ url: o.url, fleet: o.fleet, id: identity.id, hubId: coordinator.id, backoff: fast, connectTimeoutMs: 30_000 });
const transport = createTransport(link, new SecureChannel({ identity, directory: pinnedDirectory([coordinator]) }), { timeoutMs: 10_000 });
const teacher = new LocalTeacher({ deviceId: identity.id, model, labelHistogram: parts[o.device].histogram });
const facts = { platform: `${process.platform}-${process.arch}`, backend, memoryMB: Math.round(process.memoryUsage().rss / 2 ** 20), modelSpec: JSON.stringify(s.teacherSpecs[o.device]) };
// A published student arrives with the coordinator's signature already checked by the secure channel.
const onModel = async (m: AnyEnvelope): Promise<Draft | undefined> => {
  if (m.type !== 'model.publish') return undefined;
  const student = await loadPublishedModel(m.body);
  log('model received', { modelId: m.body.modelId, version: m.body.version, params: student.countParams() });
  student.dispose();
  return { type: 'model.ack', body: { modelId: m.body.modelId, version: m.body.version } };
};
serveTeacher(transport, teacher, { facts, next: onModel, onError: (m, e) => log('query failed', { type: m.type, ...e }) });

/** Enrolls, then reports capabilities unprompted; retried until the coordinator answers. */
async function enroll(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await transport.request(coordinator.id, { type: 'enroll.request', body: { platform: facts.platform } }, { timeoutMs: 5000 });
      if (r.type === 'enroll.accept') {
        log('enrolled', { device: identity.id, index: o.device, via: o.url.split(':')[0] });
        await transport.send(coordinator.id, { type: 'capabilities.report', body: capabilitiesBody(await teacher.info(), facts) });
        return;
      }
      log('enrollment not accepted', { reply: r.type, body: r.body });
    } catch (e) {
      log('enrollment attempt failed', { attempt, error: (e as Error).message });
    }
    await new Promise((r) => setTimeout(r, Math.min(2000, 200 * 2 ** attempt)));
  }
}

let enrolling: Promise<void> | undefined = enroll().finally(() => (enrolling = undefined));
// A coordinator restart drops ws connections; re-enrolling after each reconnect announces us again.
transport.onEvent((e) => {
  if (e.type === 'up' && !enrolling) enrolling = enroll().finally(() => (enrolling = undefined));
});
process.on('SIGTERM', () => {
  log('stopping');
  void transport.close().then(() => process.exit(0));
});
