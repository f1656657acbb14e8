/**
 * The main-thread side of the engine worker: starts it with a job, answers its device queries through
 * the real TeacherPorts (RemoteTeacherPorts over the transport), relays its progress, and stops it
 * gracefully (finish and checkpoint the round) or, past a grace period, by terminating it — safe because
 * the last checkpoint on disk is always complete.
 */
import { Worker } from 'node:worker_threads';
import type { TeacherPort } from '../shared/distill/port.js';
import { toWireError, type EngineStart, type FromEngine, type ToEngine } from './engine-messages.js';

/** How an engine run ended. */
export type EngineOutcome = Extract<FromEngine, { type: 'done' | 'stopped' | 'failed' }>;

/** A running engine worker. */
export interface EngineHandle {
  /** Settles once with how the run ended (a crash of the worker counts as failed). */
  readonly finished: Promise<EngineOutcome>;
  /** Asks the worker to finish and checkpoint the round in progress; terminates it after `graceMs`. */
  stop(graceMs?: number): Promise<EngineOutcome>;
  /** Ends the worker now; the last complete checkpoint stays valid. */
  terminate(): Promise<void>;
}

/** Arrays in a reply are moved to the worker, not copied; they were made fresh for this reply. */
function transferables(value: unknown, out: ArrayBuffer[] = []): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer && !out.includes(value.buffer)) out.push(value.buffer);
  } else if (value && typeof value === 'object') for (const v of Object.values(value)) transferables(v, out);
  return out;
}

/** Starts an engine worker for `start`, with `ports` answering its queries by device id. */
export function startEngine(start: EngineStart, ports: Map<string, TeacherPort>, onEvent: (e: FromEngine) => void): EngineHandle {
  const worker = new Worker(new URL('./engine-worker-boot.mjs', import.meta.url));
  const post = (m: ToEngine, transfer: ArrayBuffer[] = []) => worker.postMessage(m, transfer);
  let settle!: (o: EngineOutcome) => void;
  const finished = new Promise<EngineOutcome>((resolve) => (settle = resolve));
  let ended = false;
  const end = (o: EngineOutcome) => {
    if (ended) return;
    ended = true;
    settle(o);
  };

  worker.on('message', (m: FromEngine) => {
    if (m.type === 'call') {
      const port = ports.get(m.device);
      const answer = port ? (m.method === 'logits' ? port.logits(m.query as never) : port.gradient(m.query as never)) : Promise.reject(new Error(`no port for device ${m.device}`));
      answer.then(
        (result) => !ended && post({ type: 'reply', id: m.id, ok: true, result }, transferables(result)),
        (e) => !ended && post({ type: 'reply', id: m.id, ok: false, error: toWireError(e) }),
      );
      return;
    }
    onEvent(m);
    if (m.type === 'done' || m.type === 'stopped' || m.type === 'failed') {
      end(m);
      void worker.terminate(); // its job is over; free its TF.js memory now
    }
  });
  worker.on('error', (e) => end({ type: 'failed', error: toWireError(e) }));
  worker.on('exit', (code) => end({ type: 'failed', error: { name: 'WorkerExit', message: `engine worker exited with code ${code}` } }));
  post({ type: 'start', start });

  return {
    finished,
    async stop(graceMs = 30_000) {
      if (!ended) post({ type: 'stop' });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([finished, timeout]);
      clearTimeout(timer);
      if (!ended) {
        await worker.terminate();
        end({ type: 'failed', error: { name: 'StopTimeout', message: `the engine did not finish its round within ${graceMs} ms; terminated (the last checkpoint stands)` } });
      }
      return finished;
    },
    async terminate() {
      await worker.terminate();
    },
  };
}
