/**
 * A real Agent in-process against a scripted coordinator on an in-memory network: real keys, secure
 * channels and the agent's own uplink, minus sockets. The coordinator side records every envelope it
 * opens and every raw frame the agent's link sent, for the privacy assertions.
 */
import { afterAll, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend } from '../../../shared/compute/backend.js';
import { loadDataset } from '../../../shared/data/registry.js';
import * as tf from '@tensorflow/tfjs';
import { subset, type Dataset } from '../../../shared/data/dataset.js';
import { generateKeyFile, loadKeyFile, loadPublicIdentity, pinnedDirectory, SecureChannel, type Identity } from '../../../shared/security/index.js';
import { createMemoryNetwork, createTransport, type Link, type Transport } from '../../../shared/transport/index.js';
import type { AnyEnvelope } from '../../../shared/protocol/envelope.js';
import type { FrameCodec } from '../../../shared/protocol/codec.js';
import { saveModel } from '../../../shared/models/store.js';
import { readModelForPublish } from '../../../shared/models/publish.js';
import { signModel } from '../../../shared/security/model-signature.js';
import type { ModelPublishBody } from '../../../shared/protocol/messages.js';
import { parseAgentConfig, type AgentConfig } from '../../../edge-agent/agent/config.js';
import { Agent, type AgentLogger } from '../../../edge-agent/agent/agent.js';

/** Writes samples as JSON lines, the format the agent ingests. */
export function writeJsonl(file: string, d: Dataset, rows: number[]): void {
  const f = d.sampleShape.reduce((a, b) => a * b, 1);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, rows.map((r) => JSON.stringify({ x: Array.from(d.x.subarray(r * f, (r + 1) * f)), y: d.y[r] })).join('\n') + '\n');
}

export interface Coordinator {
  identity: Identity;
  net: ReturnType<typeof createMemoryNetwork>;
  pubFile: string;
  hub: Transport;
  /** Every envelope the coordinator opened, in order. */
  received: AnyEnvelope[];
  /** Raw frames the agent's link sent. */
  frames: Uint8Array[];
  connect: (agentId: string) => Promise<Link>;
  publish(body: ModelPublishBody): Promise<AnyEnvelope>;
  sign(model: tf.LayersModel, dir: string, modelId: string, version: number): Promise<ModelPublishBody>;
}

/** The scripted coordinator: accepts enrollment, records everything. */
export async function scriptedCoordinator(dir: string, agentPubFile: string): Promise<Coordinator> {
  const { path, publicPath } = await generateKeyFile(join(dir, 'coordinator.key'));
  const identity = await loadKeyFile(path);
  const agentPub = await loadPublicIdentity(agentPubFile);
  const net = createMemoryNetwork();
  const received: AnyEnvelope[] = [];
  const frames: Uint8Array[] = [];
  const channel = new SecureChannel({ identity, directory: pinnedDirectory([agentPub]) });
  const recording: FrameCodec = {
    localId: channel.localId,
    seal: (to, draft, meta) => channel.seal(to, draft, meta),
    open(frame, from) {
      const r = channel.open(frame, from);
      if (r.ok) received.push(r.value);
      return r;
    },
  };
  const hub = createTransport(net.connect(identity.id), recording, { timeoutMs: 20_000 });
  hub.handle((msg) => (msg.type === 'enroll.request' ? { type: 'enroll.accept', body: { deviceId: msg.sender, fleet: 'test' } } : undefined));
  return {
    identity,
    net,
    pubFile: publicPath,
    hub,
    received,
    frames,
    async connect(agentId) {
      const link = net.connect(agentId);
      return {
        ...link,
        localId: link.localId,
        send: (to, frame) => {
          frames.push(frame.slice());
          return link.send(to, frame);
        },
        onFrame: (h) => link.onFrame(h),
        onEvent: (l) => link.onEvent(l),
        close: () => link.close(),
      };
    },
    publish: (body) => hub.request(agentPub.id, { type: 'model.publish', body }, { timeoutMs: 60_000 }),
    async sign(model, modelDir, modelId, version) {
      await saveModel(model, modelDir);
      return signModel(readModelForPublish(modelDir, modelId, version), identity.sign.secretKey);
    },
  };
}

export interface AgentFixture {
  config: AgentConfig;
  agentPubFile: string;
  local: Dataset;
}

/** An agent config on `n` local digits samples, with its key generated up front so the test knows it. */
export async function agentFixture(dir: string, train: Dataset, n: number, overrides: Record<string, unknown> = {}): Promise<AgentFixture> {
  const rows = Array.from({ length: n }, (_, i) => i);
  writeJsonl(join(dir, 'samples', 'local.jsonl'), train, rows);
  mkdirSync(join(dir, 'state'), { recursive: true });
  const { publicPath } = await generateKeyFile(join(dir, 'state', 'agent.key'));
  const raw = {
    dataDir: './state',
    data: { dir: './samples', sampleShape: train.sampleShape, numClasses: train.numClasses },
    teacher: { spec: 'mlp-small', epochs: 15, learningRate: 0.005 },
    http: { port: 0 },
    lifelong: { updateEvery: 1_000_000, epochs: 2 },
    telemetryMs: 0,
    ...overrides,
  };
  return { config: parseAgentConfig(raw, dir), agentPubFile: publicPath, local: subset(train, rows) };
}

/** Collects log events, for assertions on what the agent reported. */
export function memoryLog(): AgentLogger & { events: { level: string; msg: string; fields?: Record<string, unknown> }[] } {
  const events: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  return {
    events,
    info: (msg, fields) => void events.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => void events.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => void events.push({ level: 'error', msg, fields }),
  };
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { Agent };

/**
 * The set-up every agent test file shares: a temporary folder, the digits training set (loaded once the backend
 * is up), and an agent slot stopped, with the folder removed, after the file's tests.
 */
export function agentTestContext(prefix: string): { tmp: string; train: () => Dataset; track: (a: Agent) => Agent } {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  let agent: Agent | undefined;
  let train: Dataset | undefined;
  beforeAll(async () => {
    await initBackend(() => {});
    ({ train } = loadDataset('digits', { splitSeed: 1 }));
  });
  afterAll(async () => {
    await agent?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  return {
    tmp,
    train: () => {
      if (!train) throw new Error('agentTestContext: the training set is loaded in beforeAll; call train() inside a test');
      return train;
    },
    track: (a) => (agent = a),
  };
}
