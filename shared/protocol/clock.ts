/**
 * Wall-clock time behind an interface, so replay windows and timestamps can be tested with a fixed or
 * stepped clock instead of the global Date.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests and deterministic simulations. */
export function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}
