/**
 * Reconnect delays: exponential growth capped at maxMs, with jitter so a fleet that lost its broker at the
 * same instant does not reconnect in lockstep (the thundering herd a fixed period causes).
 */

/** Backoff tuning. */
export interface BackoffOptions {
  /** Delay cap for the first retry (default 100 ms). */
  initialMs?: number;
  /** Largest delay (default 10 s). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Fraction of the delay that is randomized: 0 = none, 1 = "full jitter" (default 0.5). */
  jitter?: number;
}

/** Delay before retry number `attempt` (0-based); `random` returns uniform [0, 1). */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs = 100, maxMs = 10_000, factor = 2, jitter = 0.5 } = opts;
  if (!(initialMs > 0) || !(maxMs >= initialMs) || !(factor >= 1) || !(jitter >= 0 && jitter <= 1))
    throw new RangeError(`backoffDelay: need 0 < initialMs <= maxMs, factor >= 1, 0 <= jitter <= 1; got ${JSON.stringify(opts)}`);
  const cap = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt));
  return cap * (1 - jitter + jitter * random());
}
