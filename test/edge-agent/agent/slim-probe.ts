/**
 * A device's teacher answering one gradient query in each batch-norm mode, for slim-bundle.test.ts: run
 * in-process (full tfjs) and from an esbuild bundle with the agent's slim tfjs (scripts/tfjs-slim.mjs), whose
 * tensors lack some chained methods (x.toFloat(), x.reshape()), so device code must call the functions.
 */
import { initBackend } from '../../../shared/compute/backend.js';
import { buildModel } from '../../../shared/models/build.js';
import { seededRandom } from '../../../shared/random.js';
import { LocalTeacher } from '../../../edge-agent/teacher/local-teacher.js';
import { teacherClassStats } from '../../../edge-agent/teacher/class-stats.js';
import { BN_CLASS_MIXES } from '../../../shared/distill/port.js';

export async function probe(): Promise<Record<string, number>> {
  await initBackend(() => {});
  const model = buildModel({ kind: 'cnn', conv: [4], dense: [8], batchNorm: true }, { inputShape: [8, 8, 1], numClasses: 3, seed: 4 });
  const rng = seededRandom(5);
  const data = { name: 'probe', sampleShape: [8, 8, 1], numClasses: 3, x: Float32Array.from({ length: 30 * 64 }, () => rng.next()), y: Int32Array.from({ length: 30 }, (_, i) => i % 3) };
  const teacher = new LocalTeacher({ deviceId: 'probe', model, labelHistogram: [10, 10, 10], classStats: teacherClassStats(model, data) });
  const inputs = { shape: [6, 8, 8, 1], values: data.x.slice(0, 6 * 64) };
  const out: Record<string, number> = {};
  for (const mix of BN_CLASS_MIXES) {
    const r = await teacher.gradient({ inputs, targets: Int32Array.from([0, 1, 2, 0, 1, 2]), weights: { ce: 1, bn: 1, adv: 0 }, bnClassMix: mix });
    out[`${mix}.bn`] = r.loss.bn;
    out[`${mix}.gradient`] = r.inputGradient.values.reduce((a, v) => a + Math.abs(v), 0);
  }
  return out;
}
