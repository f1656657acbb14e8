/**
 * TeacherPorts backed by worker threads: devices are dealt round-robin onto `workers` threads, each with its
 * own TF.js wasm backend, so independent devices answer a query batch in parallel.
 */
import { Worker } from 'node:worker_threads';
import type { TeacherPort } from '../shared/distill/port.js';
import type { TeacherTrainingJob, TrainingProgress, WorkerDevice, WorkerProgress, WorkerRequest, WorkerResponse } from './worker-messages.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface WorkerFleet {
  ports: TeacherPort[];
  close(): Promise<void>;
}

class WorkerClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(onProgress?: (p: TrainingProgress) => void) {
    this.worker = new Worker(new URL('./worker-boot.mjs', import.meta.url));
    this.worker.on('message', (r: WorkerResponse | WorkerProgress) => {
      if ('progress' in r) return onProgress?.(r.progress);
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(r.error));
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`device worker exited with code ${code}`)));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  call(req: WithoutId<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

export async function workerFleet(devices: WorkerDevice[], workers: number): Promise<WorkerFleet> {
  const n = Math.max(1, Math.min(workers, devices.length));
  const clients = Array.from({ length: n }, () => new WorkerClient());
  const hostOf = (i: number) => clients[i % n];
  await Promise.all(clients.map((c, w) => c.call({ method: 'init', devices: devices.filter((_, i) => i % n === w) })));
  const ports: TeacherPort[] = devices.map((d) => ({
    deviceId: `device-${d.index}`,
    info: () => hostOf(d.index).call({ method: 'info', device: d.index }) as never,
    logits: (query) => hostOf(d.index).call({ method: 'logits', device: d.index, query }) as never,
    gradient: (query) => hostOf(d.index).call({ method: 'gradient', device: d.index, query }) as never,
  }));
  return { ports, close: async () => void (await Promise.all(clients.map((c) => c.close()))) };
}

/**
 * Trains teachers on `workers` threads, each thread taking the next job when it finishes one (partitions differ
 * in size). The jobs' sample buffers are moved to the threads, not copied. Resolves when every teacher is saved.
 */
export async function trainInWorkers(
  jobs: TeacherTrainingJob[],
  workers: number,
  onDone: (job: TeacherTrainingJob, seconds: number) => void,
  onProgress?: (p: TrainingProgress) => void,
): Promise<void> {
  const queue = [...jobs];
  const clients = Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, () => new WorkerClient(onProgress));
  try {
    await Promise.all(clients.map(async (client) => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const samples = job.data;
        const { seconds } = (await client.call({ method: 'train', job }, [samples.x.buffer as ArrayBuffer, samples.y.buffer as ArrayBuffer])) as { seconds: number };
        onDone(job, seconds);
      }
    }));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
