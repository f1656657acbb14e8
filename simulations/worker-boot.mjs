// Worker entry: threads do not inherit the parent's tsx loader, so register it before loading the TypeScript
// worker: the device/teacher worker, or the module named in workerData.module (a file next to this one).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData?.module === 'baseline-worker' ? './baseline-worker.ts' : './teacher-worker.ts');
