/**
 * Collecting replies from a fleet with a deadline and a quorum (Flower's send_and_receive(timeout), then
 * aggregate what arrived). All replies are awaited until the deadline; after it, the step goes on as soon
 * as `min` replies are in, so a straggler costs at most the deadline. Failed replies (error bodies,
 * timeouts, dropped connections) never count; if the quorum becomes unreachable the step fails with a
 * QuorumError naming who failed and why.
 */

/** Deadline and quorum of one fan-out. */
export interface QuorumOptions {
  /** Replies needed to go on, 1..n. */
  min: number;
  /** Wait this long for everyone before settling for `min` (ms); Infinity waits for every reply to settle. */
  deadlineMs: number;
}

/** What one fan-out produced: the replies that came in time, in request order, and who was left out. */
export interface Collected<T> {
  /** Indices (into the requests) and values of the replies used, in ascending index order. */
  replies: { index: number; value: T }[];
  /** Requests that failed, with the reason. */
  failed: { index: number; error: Error }[];
  /** Requests still pending when the step went on; their replies will be ignored. */
  late: number[];
}

/** Not enough replies can arrive to meet the quorum. */
export class QuorumError extends Error {
  readonly code = 'no_quorum';
  constructor(
    message: string,
    readonly failed: { index: number; error: Error }[],
  ) {
    super(message);
    this.name = 'QuorumError';
  }
}

/** Awaits `requests` under a deadline and quorum; see the module comment for the rules. */
export function collectReplies<T>(requests: Promise<T>[], o: QuorumOptions): Promise<Collected<T>> {
  const n = requests.length;
  if (!Number.isInteger(o.min) || o.min < 1 || o.min > n) return Promise.reject(new RangeError(`collectReplies: quorum ${o.min} must be an integer in 1..${n}`));
  const values = new Map<number, T>();
  const failed: { index: number; error: Error }[] = [];
  let pastDeadline = !(o.deadlineMs > 0);
  let done = false;
  return new Promise<Collected<T>>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = () => {
      if (done) return;
      const pending = n - values.size - failed.length;
      if (values.size + pending < o.min) {
        done = true;
        clearTimeout(timer);
        const why = failed.map((f) => f.error.message).join('; ');
        reject(new QuorumError(`only ${values.size} of ${n} replies and ${pending} pending, below the quorum of ${o.min}: ${why}`, [...failed]));
      } else if (pending === 0 || (pastDeadline && values.size >= o.min)) {
        done = true;
        clearTimeout(timer);
        const replies = [...values].sort((a, b) => a[0] - b[0]).map(([index, value]) => ({ index, value }));
        const answered = new Set([...values.keys(), ...failed.map((f) => f.index)]);
        resolve({ replies, failed: [...failed].sort((a, b) => a.index - b.index), late: requests.map((_, i) => i).filter((i) => !answered.has(i)) });
      }
    };
    requests.forEach((p, index) =>
      p.then(
        (value) => {
          if (done) return;
          values.set(index, value);
          settle();
        },
        (e: unknown) => {
          if (done) return;
          failed.push({ index, error: e instanceof Error ? e : new Error(String(e)) });
          settle();
        },
      ),
    );
    if (!pastDeadline && Number.isFinite(o.deadlineMs)) {
      timer = setTimeout(() => {
        pastDeadline = true;
        settle();
      }, o.deadlineMs);
    }
    settle();
  });
}
