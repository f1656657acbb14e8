/**
 * A worker thread hosting some of a simulated fleet's devices. Devices are independent, so their query work
 * runs in parallel on separate cores while the coordinator thread trains the generator and the student.
 * Only TeacherPort messages pass between the threads, as they would between machines. Before a run the same
 * threads train the uncached teachers, one device per thread at a time, each on its own partition only.
 */
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../shared/compute/backend.js';
import { loadModel } from '../shared/models/store.js';
import { LocalTeacher } from '../edge-agent/teacher/local-teacher.js';
import { trainTeacher } from './teacher-training.js';
import type { TeacherTrainingJob, WorkerDevice, WorkerRequest, WorkerResponse } from './worker-messages.js';

const teachers = new Map<number, LocalTeacher>();
let backendReady: Promise<unknown> | undefined;

async function init(devices: WorkerDevice[]): Promise<void> {
  await (backendReady ??= initBackend(() => {}));
  for (const d of devices) {
    const model = await loadModel(d.modelDir);
    teachers.set(d.index, new LocalTeacher({ deviceId: `device-${d.index}`, model, labelHistogram: d.histogram, blackBox: d.blackBox, classStats: d.classStats }));
  }
}

async function train(job: TeacherTrainingJob): Promise<{ seconds: number }> {
  await (backendReady ??= initBackend(() => {}));
  const { model, seconds } = await trainTeacher(job, (progress) => parentPort!.postMessage({ progress }));
  model.dispose(); // the fleet loads it from the cache when the run starts
  return { seconds };
}

function transferables(value: unknown, out: ArrayBuffer[] = []): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer && !out.includes(value.buffer)) out.push(value.buffer);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) transferables(v, out);
  }
  return out;
}

parentPort!.on('message', async (req: WorkerRequest) => {
  let response: WorkerResponse;
  try {
    if (req.method === 'init') {
      await init(req.devices);
      response = { id: req.id, ok: true, result: null };
    } else if (req.method === 'train') {
      response = { id: req.id, ok: true, result: await train(req.job) };
    } else {
      const teacher = teachers.get(req.device);
      if (!teacher) throw new Error(`this worker does not host device ${req.device}`);
      const result = req.method === 'info' ? await teacher.info() : req.method === 'logits' ? await teacher.logits(req.query as never) : await teacher.gradient(req.query as never);
      response = { id: req.id, ok: true, result };
    }
  } catch (e) {
    response = { id: req.id, ok: false, error: (e as Error).message };
  }
  parentPort!.postMessage(response, response.ok ? transferables(response.result) : []);
});
