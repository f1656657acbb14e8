/**
 * Typed transport failures. Every request ends: with a reply, a TimeoutError at its deadline, or a
 * ClosedError as soon as the connection it depends on is known to be gone. Nothing waits forever.
 */

/** The deadline passed without a reply. */
export class TimeoutError extends Error {
  readonly code = 'timeout';
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** The transport was closed, or the connection to the peer dropped, before the operation completed. */
export class ClosedError extends Error {
  readonly code = 'closed';
  constructor(message: string) {
    super(message);
    this.name = 'ClosedError';
  }
}
