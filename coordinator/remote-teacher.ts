/**
 * A device's teacher seen through the network: TeacherPort over a Transport. Each call is one request
 * with a deadline; a device that cannot answer replies with an `error` body, which becomes a rejected
 * promise carrying the device's code and reason, so the engine can aggregate the replies that did come.
 */
import type { GradientQuery, GradientReply, LogitsQuery, LogitsReply, TeacherInfo, TeacherPort, TensorData } from '../shared/distill/port.js';
import {
  gradientQueryBody,
  gradientReplyFrom,
  logitsQueryBody,
  logitsReplyFrom,
  teacherInfoFrom,
  type QueryEncoding,
} from '../shared/distill/wire.js';
import type { AnyEnvelope, Draft, Envelope } from '../shared/protocol/envelope.js';
import type { MessageType, ReplyDType } from '../shared/protocol/messages.js';
import type { Transport } from '../shared/transport/transport.js';

/** A device answered, but with an error (its code and reason), or with something that is not an answer. */
export class RemoteTeacherError extends Error {
  constructor(
    readonly deviceId: string,
    readonly code: string,
    readonly reason: string,
  ) {
    super(`device ${deviceId}: ${code}: ${reason}`);
    this.name = 'RemoteTeacherError';
  }
}

/** Options of {@link RemoteTeacherPort}. */
export interface RemoteTeacherOptions {
  transport: Transport;
  deviceId: string;
  /** Hard deadline of each request in ms (default 30 s); the device is told it in the query. */
  timeoutMs?: number;
  /** Element type devices answer in (default float32; float16 halves the upload). */
  replyDtype?: ReplyDType;
  /** Element type of the tensors sent down (default float32). */
  queryDtype?: ReplyDType;
  /** The current round, stamped on every query's header for logs and the audit trail. */
  round?: () => number | undefined;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** TeacherPort over a Transport (ws, MQTT or in-memory). */
export class RemoteTeacherPort implements TeacherPort {
  readonly deviceId: string;
  private readonly o: RemoteTeacherOptions;
  private numClasses?: number;

  constructor(o: RemoteTeacherOptions) {
    this.o = o;
    this.deviceId = o.deviceId;
  }

  private get encoding(): QueryEncoding {
    return { deadlineMs: this.o.timeoutMs ?? 30_000, replyDtype: this.o.replyDtype, queryDtype: this.o.queryDtype };
  }

  async info(): Promise<TeacherInfo> {
    const reply = await this.call({ type: 'capabilities.query', body: {} }, 'capabilities.report');
    const info = teacherInfoFrom(reply.body);
    this.numClasses = info.numClasses;
    return info;
  }

  async logits(q: LogitsQuery): Promise<LogitsReply> {
    const reply = await this.call({ type: 'round.query', body: logitsQueryBody(q, this.encoding) }, 'round.reply');
    const r = logitsReplyFrom(reply.body);
    this.checkLogits(r.logits, q.inputs.shape[0] * (1 + (q.probes?.directions ?? 0)) + (q.procedural?.count ?? 0));
    return r;
  }

  async gradient(q: GradientQuery): Promise<GradientReply> {
    const reply = await this.call({ type: 'gradient.query', body: gradientQueryBody(q, this.encoding) }, 'gradient.reply');
    const r = gradientReplyFrom(reply.body);
    this.checkLogits(r.logits, q.inputs.shape[0]);
    if (!sameShape(r.inputGradient.shape, q.inputs.shape))
      throw new RemoteTeacherError(this.deviceId, 'bad_reply', `input gradient of shape [${r.inputGradient.shape}] for inputs [${q.inputs.shape}]`);
    return r;
  }

  /** A reply for another batch size or class count would corrupt aggregation: refuse it here. */
  private checkLogits(logits: TensorData, n: number): void {
    const [rows, classes] = logits.shape;
    if (logits.shape.length !== 2 || rows !== n || (this.numClasses !== undefined && classes !== this.numClasses))
      throw new RemoteTeacherError(this.deviceId, 'bad_reply', `logits of shape [${logits.shape}] for ${n} inputs and ${this.numClasses ?? '?'} classes`);
  }

  private async call<K extends MessageType>(draft: Draft, expected: K): Promise<Envelope<K>> {
    const round = this.o.round?.();
    const msg: AnyEnvelope = await this.o.transport.request(this.deviceId, round === undefined ? draft : { ...draft, round }, { timeoutMs: this.o.timeoutMs ?? 30_000 });
    if (msg.type === 'error') throw new RemoteTeacherError(this.deviceId, msg.body.code, msg.body.reason);
    if (msg.type !== expected) throw new RemoteTeacherError(this.deviceId, 'bad_reply', `expected ${expected} in reply to ${draft.type}, got ${msg.type}`);
    return msg as Envelope<K>;
  }
}
