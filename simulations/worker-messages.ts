/** Messages between the scenario runner and its device worker threads. */
export interface WorkerDevice {
  index: number;
  modelDir: string;
  histogram: number[];
  blackBox: boolean;
}

export type WorkerRequest =
  | { id: number; method: 'init'; devices: WorkerDevice[] }
  | { id: number; method: 'info' | 'logits' | 'gradient'; device: number; query?: unknown };

export type WorkerResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
