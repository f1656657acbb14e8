/**
 * A TeacherPort wrapper that rounds every tensor crossing the port through float16, in both directions —
 * exactly what a float16 wire encoding would deliver — so the accuracy cost of halving the traffic can be
 * measured in simulation.
 */
import { fromFloat16, toFloat16 } from '../protocol/float16.js';
import type { TeacherPort, TensorData } from './port.js';

function half(t: TensorData): TensorData;
function half(t: TensorData | undefined): TensorData | undefined;
function half(t: TensorData | undefined): TensorData | undefined {
  return t && { shape: t.shape, values: fromFloat16(toFloat16(t.values)) };
}

export function float16Port(inner: TeacherPort): TeacherPort {
  return {
    deviceId: inner.deviceId,
    info: () => inner.info(),
    async logits(q) {
      const r = await inner.logits({ ...q, inputs: half(q.inputs) });
      return { logits: half(r.logits) };
    },
    async gradient(q) {
      const r = await inner.gradient({ ...q, inputs: half(q.inputs), studentProbs: half(q.studentProbs) });
      return { ...r, logits: half(r.logits), inputGradient: half(r.inputGradient) };
    },
  };
}
