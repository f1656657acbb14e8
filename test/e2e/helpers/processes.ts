/**
 * Child processes for end-to-end tests: the real `distillery coordinator start` and `distillery agent
 * start`, each logging JSON lines on stdout that tests wait on. Every process is killed by its own pid on
 * cleanup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadDataset } from '../../../shared/data/registry.js';
import { partitionDataset } from '../../../shared/data/partition.js';
import { loadScenario } from '../../../simulations/scenario.js';
import { cacheRoot, teacherKey } from '../../../simulations/teachers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** A child process whose stdout JSON lines are collected as events. */
export interface JsonProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly events: Record<string, unknown>[];
  /** The last lines of stderr (and non-JSON stdout), for failure messages. */
  tail(): string;
  /** Resolves with the first event (already seen or future) matching `pred`; rejects on timeout or exit. */
  waitFor(pred: (e: Record<string, unknown>) => boolean, timeoutMs: number, what?: string): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/** Spawns node with `args`, collecting JSON lines from stdout. */
export function spawnJson(name: string, args: string[], env: Record<string, string> = {}, cwd = ROOT): JsonProcess {
  const proc = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let tail = '';
  let buffered = '';
  const keep = (s: string) => (tail = (tail + s).slice(-4000));
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      try {
        events.push(JSON.parse(line));
      } catch {
        keep(line + '\n');
      }
    }
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on('data', (d: Buffer) => keep(d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  void exited.then(() => [...waiters].forEach((w) => w()));
  return {
    name,
    proc,
    events,
    tail: () => tail,
    exited,
    kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    waitFor(pred, timeoutMs, what = 'event') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) return done(() => resolve(hit));
          if (proc.exitCode !== null || proc.signalCode !== null) done(() => reject(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before ${what}\n${tail}`)));
        };
        const recent = () => events.slice(-15).map((e) => JSON.stringify(e).slice(0, 300)).join('\n');
        const timer = setTimeout(() => done(() => reject(new Error(`${name}: no ${what} within ${timeoutMs} ms\n${recent()}\n${tail}`))), timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** `distillery coordinator start --config <file>` as a user runs it. */
export function startCoordinatorProcess(configFile: string, extra: string[] = [], env: Record<string, string> = {}): JsonProcess {
  return spawnJson('coordinator', [join(ROOT, 'bin/distillery.js'), 'coordinator', 'start', '--config', configFile, ...extra], env);
}

/** Where one simulated device lives: its partition of a scenario, and the scenario's cached teacher. */
export interface AgentOptions {
  keyFile: string;
  coordinatorPub: string;
  url: string;
  fleet: string;
  scenario: string;
  seed: number;
  device: number;
  /** false: the agent answers logits only (queries.gradients), a black-box device. */
  gradients?: boolean;
}

/**
 * `distillery-agent start` for device `device` of a scenario, as a device runs it: its partition written as
 * JSON lines into the agent's data directory, and the scenario's teacher (trained and cached by the
 * caller with prepareTeachers) brought as the agent's own model, so its answers equal the in-process ones.
 */
export function startAgentProcess(name: string, o: AgentOptions): JsonProcess {
  const s = loadScenario(o.scenario);
  const { train } = loadDataset(s.dataset, { limit: s.limit, splitSeed: o.seed });
  const part = partitionDataset(train, { ...s.partition, seed: o.seed })[o.device];
  const dir = join(dirname(o.keyFile), `agent-${o.device}`);
  const f = train.sampleShape.reduce((a, b) => a * b, 1);
  mkdirSync(join(dir, 'samples'), { recursive: true });
  const lines = Array.from(part.indices, (r) => JSON.stringify({ x: Array.from(train.x.subarray(r * f, (r + 1) * f)), y: train.y[r] }));
  writeFileSync(join(dir, 'samples', 'local.jsonl'), lines.join('\n') + '\n');
  const config = {
    dataDir: join(dir, 'state'),
    keyFile: o.keyFile,
    coordinator: { url: o.url, publicKey: o.coordinatorPub, fleet: o.fleet, backoff: { initialMs: 100, maxMs: 1000 }, requestTimeoutMs: 10_000 },
    data: { dir: join(dir, 'samples'), sampleShape: train.sampleShape, numClasses: train.numClasses },
    teacher: { model: join(cacheRoot(), 'teachers', `${s.dataset}-${teacherKey(s, o.seed, o.device)}`) },
    http: { enabled: false },
    lifelong: { enabled: false },
    ...(o.gradients === false ? { queries: { gradients: false } } : {}),
    telemetryMs: 0,
  };
  const configFile = join(dir, 'agent.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return spawnJson(name, [join(ROOT, 'bin/distillery-agent.js'), 'start', '--config', configFile]);
}
