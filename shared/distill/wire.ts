/**
 * The TeacherPort vocabulary as protocol bodies, both directions. The coordinator's RemoteTeacherPort and
 * the agent's serveTeacher both convert through here, so a query means the same thing on either side and
 * the privacy boundary stays the one described in port.ts: inputs down; logits, input gradients, loss
 * values and a label histogram up. Bodies are validated by the catalog before they reach these functions.
 */
import type {
  CapabilitiesReportBody,
  GradientQueryBody,
  GradientReplyBody,
  ReplyDType,
  RoundQueryBody,
  RoundReplyBody,
} from '../protocol/messages.js';
import { decodeTensor, encodeTensor, float16Tensor, float32Tensor, int32Tensor, toFloat32, type WireTensor } from '../protocol/tensor.js';
import type { GradientQuery, GradientReply, LogitsQuery, LogitsReply, TeacherInfo, TensorData } from './port.js';

/** Encodes float32 values as a wire tensor of `dtype` (float16 rounds half to even). */
export function wireTensor(t: TensorData, dtype: ReplyDType = 'float32'): WireTensor {
  return encodeTensor(dtype === 'float16' ? float16Tensor(t.values, [...t.shape]) : float32Tensor(t.values, [...t.shape]));
}

/** Decodes a validated wire tensor into float32 TensorData (float16 expanded, int8 dequantized). */
export function tensorData(w: WireTensor): TensorData {
  const t = decodeTensor(w);
  return { shape: [...t.shape], values: toFloat32(t) };
}

/** Options of the coordinator side of a query. */
export interface QueryEncoding {
  deadlineMs: number;
  /** Element type the device should answer in. */
  replyDtype?: ReplyDType;
  /** Element type of the float tensors sent down (default float32). */
  queryDtype?: ReplyDType;
}

/** A logits query as a round.query body; temperature 1 asks for raw logits. */
export function logitsQueryBody(q: LogitsQuery, o: QueryEncoding): RoundQueryBody {
  const body: RoundQueryBody = { inputs: wireTensor(q.inputs, o.queryDtype), temperature: 1, deadlineMs: o.deadlineMs };
  if (o.replyDtype) body.replyDtype = o.replyDtype;
  if (q.probes) body.probes = { ...q.probes };
  if (q.procedural) body.procedural = { ...q.procedural };
  return body;
}

/** A round.query body as the LogitsQuery a TeacherPort answers. */
export function logitsQueryFrom(b: RoundQueryBody): LogitsQuery {
  const q: LogitsQuery = { inputs: tensorData(b.inputs) };
  if (b.probes) q.probes = { ...b.probes };
  if (b.procedural) q.procedural = { ...b.procedural };
  return q;
}

/** A logits reply as a round.reply body; logits are divided by the query's temperature. */
export function logitsReplyBody(r: LogitsReply, temperature: number, dtype: ReplyDType = 'float32'): RoundReplyBody {
  const values = temperature === 1 ? r.logits.values : r.logits.values.map((v) => v / temperature);
  return { logits: wireTensor({ shape: r.logits.shape, values }, dtype) };
}

/** A round.reply body as a LogitsReply. */
export function logitsReplyFrom(b: RoundReplyBody): LogitsReply {
  return { logits: tensorData(b.logits) };
}

/** A gradient query as a gradient.query body. */
export function gradientQueryBody(q: GradientQuery, o: QueryEncoding): GradientQueryBody {
  const n = q.targets.length;
  const body: GradientQueryBody = {
    inputs: wireTensor(q.inputs, o.queryDtype),
    targets: encodeTensor(int32Tensor(q.targets, [n])),
    weights: { ce: q.weights.ce, bn: q.weights.bn, adv: q.weights.adv },
    deadlineMs: o.deadlineMs,
  };
  if (q.sampleWeights) body.sampleWeights = wireTensor({ shape: [n], values: q.sampleWeights }, o.queryDtype);
  if (q.classWeights) body.classWeights = wireTensor(q.classWeights, o.queryDtype);
  if (q.studentProbs) body.studentProbs = wireTensor(q.studentProbs, o.queryDtype);
  if (q.bnClassMix) body.bnClassMix = q.bnClassMix;
  if (q.bnFirstLayer !== undefined) body.bnFirstLayer = q.bnFirstLayer;
  if (q.smoothGrad) body.smoothGrad = { ...q.smoothGrad };
  if (q.ceFocal) body.ceFocal = q.ceFocal;
  if (o.replyDtype) body.replyDtype = o.replyDtype;
  return body;
}

/** A gradient.query body as the GradientQuery a TeacherPort answers. */
export function gradientQueryFrom(b: GradientQueryBody): GradientQuery {
  const targets = decodeTensor(b.targets);
  if (targets.dtype !== 'int32') throw new Error(`gradient.query targets must be int32, got ${targets.dtype}`);
  const q: GradientQuery = { inputs: tensorData(b.inputs), targets: targets.data, weights: { ...b.weights } };
  if (b.sampleWeights) q.sampleWeights = tensorData(b.sampleWeights).values;
  if (b.classWeights) q.classWeights = tensorData(b.classWeights);
  if (b.studentProbs) q.studentProbs = tensorData(b.studentProbs);
  if (b.bnClassMix) q.bnClassMix = b.bnClassMix;
  if (b.bnFirstLayer !== undefined) q.bnFirstLayer = b.bnFirstLayer;
  if (b.smoothGrad) q.smoothGrad = { ...b.smoothGrad };
  if (b.ceFocal) q.ceFocal = b.ceFocal;
  return q;
}

/** A gradient reply as a gradient.reply body. */
export function gradientReplyBody(r: GradientReply, dtype: ReplyDType = 'float32'): GradientReplyBody {
  return { logits: wireTensor(r.logits, dtype), inputGradient: wireTensor(r.inputGradient, dtype), loss: { ...r.loss } };
}

/** A gradient.reply body as a GradientReply. */
export function gradientReplyFrom(b: GradientReplyBody): GradientReply {
  return { logits: tensorData(b.logits), inputGradient: tensorData(b.inputGradient), loss: { ...b.loss } };
}

/** Device facts that travel beside the TeacherInfo in a capabilities.report. */
export type DeviceFacts = Pick<CapabilitiesReportBody, 'platform' | 'backend' | 'memoryMB' | 'modelSpec'>;

/** A TeacherInfo (and optional device facts) as a capabilities.report body. */
export function capabilitiesBody(info: TeacherInfo, facts: DeviceFacts = {}): CapabilitiesReportBody {
  const body: CapabilitiesReportBody = {
    numClasses: info.numClasses,
    inputShape: [...info.inputShape],
    labelHistogram: [...info.labelHistogram],
    hasBatchNorm: info.hasBatchNorm,
    gradients: info.gradients,
  };
  for (const k of ['platform', 'backend', 'memoryMB', 'modelSpec'] as const) if (facts[k] !== undefined) (body as unknown as Record<string, unknown>)[k] = facts[k];
  return body;
}

/** The TeacherInfo part of a capabilities.report body. */
export function teacherInfoFrom(b: CapabilitiesReportBody): TeacherInfo {
  return { numClasses: b.numClasses, inputShape: [...b.inputShape], labelHistogram: [...b.labelHistogram], hasBatchNorm: b.hasBatchNorm, gradients: b.gradients };
}
