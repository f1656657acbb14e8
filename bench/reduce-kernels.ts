/**
 * What Distillery's Sum and Mean over leading axes save against tfjs-backend-wasm's own kernels, which
 * transpose the reduced axes innermost first: the bias gradients of the wide student's two conv layers at
 * batch 128 and a batch-norm teacher's moments at batch 64, each kernel alternated with the stock one in this
 * process (so drift hits both), median of 21 calls each. Also checks that both give the same bits.
 *
 *   npm run bench:reduce [-- --out bench/results/reduce-kernels.json]
 */
import * as tf from '@tensorflow/tfjs';
import { execSync } from 'node:child_process';
import { useBackend } from '../shared/compute/backend.js';
import { stockWasmKernel } from '../shared/compute/wasm-kernels/register.js';
import { writeFileAtomic } from '../shared/fs/atomic.js';
import { median } from './stats.js';
import { arg, checkFlags } from './args.js';

const CASES = [
  { kernel: 'Sum', shape: [128, 28, 28, 32], what: "wide student's first conv bias gradient, batch 128" },
  { kernel: 'Sum', shape: [128, 14, 14, 64], what: "wide student's second conv bias gradient, batch 128" },
  { kernel: 'Mean', shape: [64, 28, 28, 16], what: "BN teacher's first-layer moments, batch 64" },
  { kernel: 'Mean', shape: [64, 14, 14, 32], what: "BN teacher's second-layer moments, batch 64" },
] as const;
const CALLS = 21;

async function main(): Promise<void> {
  checkFlags(['out']);
  if (!(await useBackend('wasm', { threads: 1 }))) throw new Error('the wasm backend could not start');
  const backend = tf.backend();
  const rows = CASES.map(({ kernel, shape, what }) => {
    const x = tf.randomNormal([...shape], 0, 1, 'float32', 1);
    const attrs = { axis: [0, 1, 2], keepDims: false };
    const ours = () => tf.engine().runKernel(kernel, { x }, attrs) as tf.Tensor;
    const stock = () => tf.engine().makeTensorFromTensorInfo(stockWasmKernel(kernel).kernelFunc({ inputs: { x }, backend, attrs }) as tf.TensorInfo);
    const [a, b] = [ours(), stock()];
    const identical = a.dataSync().every((v, i) => Object.is(v, b.dataSync()[i]));
    tf.dispose([a, b]);
    const times = { ours: [] as number[], stock: [] as number[] };
    for (let call = 0; call < CALLS; call++) {
      for (const [name, run] of [['ours', ours], ['stock', stock]] as const) {
        const t0 = performance.now();
        run().dispose();
        times[name].push(performance.now() - t0);
      }
    }
    x.dispose();
    const row = { kernel, shape, what, oursMs: +median(times.ours).toFixed(2), stockMs: +median(times.stock).toFixed(2), identical };
    console.log(`${kernel} ${JSON.stringify(shape)} over axes 0-2 (${what}): ${row.oursMs} ms against ${row.stockMs} ms stock, ${identical ? 'the same bits' : 'DIFFERENT bits'}`);
    return row;
  });
  const out = arg('out') ?? new URL('./results/reduce-kernels.json', import.meta.url).pathname;
  const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  writeFileAtomic(out, JSON.stringify({ commit, measured: new Date().toISOString(), threads: 1, calls: CALLS, rows }, null, 2) + '\n');
  console.log(`results written to ${out}`);
}

main().catch((e: Error) => {
  console.error(`bench/reduce-kernels: ${e.message}`);
  process.exit(1);
});
