/**
 * The coordinator's answer to enroll.request, as a pure function of the registry: accepted, pending
 * operator approval, or refused with an `error` body. Refusals are replies, not silence, so a device
 * knows whether to wait, re-provision or give up.
 */
import type { Clock } from '../protocol/clock.js';
import type { Draft, Envelope } from '../protocol/envelope.js';
import type { DeviceRegistry } from './registry.js';

/** Decides an enrollment request against the registry and returns the reply to send. */
export function answerEnrollment(registry: DeviceRegistry, msg: Envelope<'enroll.request'>, opts: { fleet: string; clock: Clock }): Draft {
  if (!msg.keys) return { type: 'error', body: { code: 'enroll_bad_request', reason: 'enroll.request without keys' } };
  const outcome = registry.enroll(
    { id: msg.sender, signPublicKey: msg.keys.sign, boxPublicKey: msg.keys.box, token: msg.body.token },
    opts.clock.now(),
  );
  if (outcome.status === 'accepted') return { type: 'enroll.accept', body: { deviceId: msg.sender, fleet: opts.fleet } };
  if (outcome.status === 'pending')
    return { type: 'enroll.pending', body: { reason: `device ${msg.sender} awaits operator approval` } };
  return { type: 'error', body: { code: `enroll_${outcome.code}`, reason: outcome.reason } };
}
