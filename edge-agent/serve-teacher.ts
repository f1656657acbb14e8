/**
 * The device side of the TeacherPort over a network: answers the coordinator's capabilities, logits and
 * gradient queries with a local teacher. It never goes silent: a query the teacher cannot answer (bad
 * shape, a black-box teacher asked for gradients, a crash in TF.js) gets an `error` body with a code the
 * coordinator can count, and messages it does not know get `unsupported` (or go to `next`).
 */
import type { TeacherInfo, TeacherPort } from '../shared/distill/port.js';
import {
  capabilitiesBody,
  gradientQueryFrom,
  gradientReplyBody,
  logitsQueryFrom,
  logitsReplyBody,
  type DeviceFacts,
} from '../shared/distill/wire.js';
import type { AnyEnvelope, Draft } from '../shared/protocol/envelope.js';
import { CATALOG, type ErrorBody } from '../shared/protocol/messages.js';
import type { Handler, Transport } from '../shared/transport/transport.js';

/** Options of {@link serveTeacher}. */
export interface ServeTeacherOptions {
  /** Platform facts reported beside the teacher's info in capabilities.report. */
  facts?: DeviceFacts;
  /** Handles every message that is not a teacher query (model.publish, telemetry, ...). */
  next?: Handler;
  /** Called when a query fails, for the agent's logs. */
  onError?: (msg: AnyEnvelope, error: ErrorBody) => void;
}

/** Error codes a teacher answers with. */
export const TEACHER_ERROR_CODES = ['no_gradients', 'teacher_failed'] as const;

const fail = (code: (typeof TEACHER_ERROR_CODES)[number], reason: string): Draft => ({ type: 'error', body: { code, reason: reason.slice(0, 2000) } });

/**
 * A transport handler for the teacher queries; returns undefined for any other message type so it can be
 * composed with an agent's other handlers.
 */
export function teacherHandler(teacher: TeacherPort, o: ServeTeacherOptions = {}): (msg: AnyEnvelope) => Promise<Draft | undefined> {
  let info: Promise<TeacherInfo> | undefined;
  const cachedInfo = () => (info ??= teacher.info().catch((e) => {
    info = undefined; // a failed read must not stick; the next query tries again
    throw e;
  }));
  const answer = async (msg: AnyEnvelope): Promise<Draft | undefined> => {
    switch (msg.type) {
      case 'capabilities.query':
        info = undefined; // capabilities may change (lifelong learning adds samples and classes)
        return { type: 'capabilities.report', body: capabilitiesBody(await cachedInfo(), o.facts) };
      case 'round.query': {
        const r = await teacher.logits(logitsQueryFrom(msg.body));
        return { type: 'round.reply', body: logitsReplyBody(r, msg.body.temperature, msg.body.replyDtype) };
      }
      case 'gradient.query': {
        if (!(await cachedInfo()).gradients) return fail('no_gradients', `device ${teacher.deviceId} is a black-box teacher: it answers logits only`);
        const r = await teacher.gradient(gradientQueryFrom(msg.body));
        return { type: 'gradient.reply', body: gradientReplyBody(r, msg.body.replyDtype) };
      }
      default:
        return undefined;
    }
  };
  return async (msg) => {
    try {
      const draft = await answer(msg);
      if (draft?.type === 'error') o.onError?.(msg, draft.body);
      return draft;
    } catch (e) {
      const draft = fail('teacher_failed', e instanceof Error ? e.message : String(e));
      o.onError?.(msg, draft.body as ErrorBody);
      return draft;
    }
  };
}

/**
 * The whole device-side handler: teacher queries are answered, health.ping is answered with pong, other
 * messages go to `o.next`, and anything left that expects a reply gets `unsupported`.
 */
export function deviceHandler(teacher: TeacherPort, o: ServeTeacherOptions = {}): Handler {
  const queries = teacherHandler(teacher, o);
  return async (msg) => {
    const answer = (await queries(msg)) ?? (await o.next?.(msg));
    if (answer) return answer;
    if (msg.type === 'health.ping') return { type: 'health.pong', body: {} };
    if (CATALOG[msg.type].expectsReply) return { type: 'error', body: { code: 'unsupported', reason: `device ${teacher.deviceId} does not handle ${msg.type}` } };
    return undefined;
  };
}

/** Serves `teacher` on `transport` with {@link deviceHandler}. */
export function serveTeacher(transport: Transport, teacher: TeacherPort, o: ServeTeacherOptions = {}): void {
  transport.handle(deviceHandler(teacher, o));
}
