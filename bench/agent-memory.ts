/**
 * The agent's memory, measured on the real daemon as a device runs it: `distillery-agent start` (the
 * bundled JavaScript, dist/distillery-agent.mjs) with a Fashion-MNIST device (12,000 local samples as IDX)
 * and the CNN teacher with batch norm, trained on start-up in a child process (its own peak reported),
 * then 500 batch-1 predictions over HTTP and a lifelong update on 500 ingested samples. Peak RSS is the
 * process's VmHWM (Linux), read at each phase; after start-up the peak is reset (clear_refs 5) so the
 * serving-and-learning phase gets its own number.
 *
 *   npm run bench:agent -- --memory      # about 3 minutes; merges into bench/results/agent.json
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadFashionMnist } from '../shared/data/fashion-mnist.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TEACHER = { kind: 'cnn', conv: [16, 32], dense: [64], batchNorm: true };

function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 8;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([header, data]));
}

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

const vm = (pid: number, key: 'VmHWM' | 'VmRSS') => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

export interface AgentMemory {
  /** Highest RSS of the daemon over its whole run. */
  peakRssMB: number;
  /** Peak of the one-off child process that trained the teacher on start-up. */
  trainingPeakRssMB: number;
  startupPeakRssMB: number;
  rssAfterStartupMB: number;
  /** Peak while serving predictions and learning from ingested samples, after start-up. */
  servingAndLearningPeakRssMB: number;
  localSamples: number;
  teacher: unknown;
  seconds: { startup: number; predictions: number; lifelongUpdate: number };
}

export async function agentMemoryPart(log: (line: string) => void, quick = false): Promise<AgentMemory> {
  const tmp = mkdtempSync(join(tmpdir(), 'distillery-agent-memory-'));
  const n = 12_000;
  const train = loadFashionMnist('train', { limit: n + 500 });
  const bytes = Uint8Array.from(train.x.subarray(0, n * 784), (v) => Math.round(v * 255));
  mkdirSync(join(tmp, 'samples'));
  writeFileSync(join(tmp, 'samples', 'device-images-idx3-ubyte.gz'), idx([n, 28, 28], bytes));
  writeFileSync(join(tmp, 'samples', 'device-labels-idx1-ubyte.gz'), idx([n], Uint8Array.from(train.y.subarray(0, n))));
  const port = await freePort();
  const config = {
    dataDir: join(tmp, 'state'),
    data: { dir: join(tmp, 'samples'), sampleShape: [28, 28, 1], numClasses: 10 },
    teacher: { spec: TEACHER, epochs: quick ? 1 : 2, batchSize: 64 },
    http: { port },
    lifelong: { updateEvery: 500, memorySize: 1000, epochs: 1 },
    telemetryMs: 0,
  };
  writeFileSync(join(tmp, 'agent.json'), JSON.stringify(config));
  const t0 = performance.now();
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'ignore' });
  const proc = spawn(process.execPath, [join(ROOT, 'bin/distillery-agent.js'), 'start', '--config', join(tmp, 'agent.json')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let trainingPeakRssMB = NaN;
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      proc.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        for (const line of buffered.split('\n').slice(0, -1)) {
          if (line.includes('"teacher epoch"')) log(`agent: ${line.slice(0, 160)}`);
          if (line.includes('"teacher ready"')) trainingPeakRssMB = JSON.parse(line).peakRssMB;
          if (line.includes('"agent ready"')) resolve();
        }
        buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
      });
      proc.once('exit', (code) => reject(new Error(`agent exited (${code}) before it was ready\n${stderr}`)));
    });
    const startup = (performance.now() - t0) / 1000;
    const startupPeakRssMB = vm(proc.pid!, 'VmHWM');
    const rssAfterStartupMB = vm(proc.pid!, 'VmRSS');
    log(`agent ready in ${startup.toFixed(0)} s: daemon peak ${startupPeakRssMB.toFixed(0)} MB during start-up, ${rssAfterStartupMB.toFixed(0)} MB now; the teacher-training child peaked at ${trainingPeakRssMB} MB`);
    writeFileSync(`/proc/${proc.pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
    const url = `http://127.0.0.1:${port}`;
    const t1 = performance.now();
    for (let i = 0; i < 500; i++) {
      const x = Array.from(train.x.subarray((n + i) * 784, (n + i + 1) * 784));
      const r = await fetch(`${url}/predict`, { method: 'POST', body: JSON.stringify({ x }) }).catch((e: Error) => {
        throw new Error(`predict ${i} failed (${e.message}); agent exit ${proc.exitCode ?? proc.signalCode}\n${stderr}`);
      });
      if (r.status !== 200) throw new Error(`predict answered ${r.status}: ${await r.text()}`);
    }
    const predictions = (performance.now() - t1) / 1000;
    const t2 = performance.now();
    const samples = Array.from({ length: 500 }, (_, i) => ({ x: Array.from(train.x.subarray((n + i) * 784, (n + i + 1) * 784)), y: train.y[n + i] }));
    for (let i = 0; i < 500; i += 100) {
      const r = await fetch(`${url}/samples`, { method: 'POST', body: JSON.stringify({ samples: samples.slice(i, i + 100) }) });
      if (r.status !== 201) throw new Error(`ingest answered ${r.status}: ${await r.text()}`);
    }
    for (;;) {
      // A poll that fails (the daemon is busy learning) is simply retried.
      const s = (await fetch(`${url}/status`).then((r) => r.json(), () => ({ lifelong: { updates: 0, learning: true } }))) as { lifelong: { updates: number; learning: boolean } };
      if (s.lifelong.updates >= 1 && !s.lifelong.learning) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const lifelongUpdate = (performance.now() - t2) / 1000;
    const servingAndLearningPeakRssMB = vm(proc.pid!, 'VmHWM');
    log(`500 predictions in ${predictions.toFixed(1)} s, a lifelong update on 500 samples in ${lifelongUpdate.toFixed(1)} s: peak ${servingAndLearningPeakRssMB.toFixed(0)} MB`);
    return {
      peakRssMB: Math.max(startupPeakRssMB, servingAndLearningPeakRssMB),
      trainingPeakRssMB,
      startupPeakRssMB, rssAfterStartupMB, servingAndLearningPeakRssMB,
      localSamples: n, teacher: { spec: TEACHER, epochs: config.teacher.epochs, batchSize: 64 },
      seconds: { startup, predictions, lifelongUpdate },
    };
  } finally {
    proc.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
}
