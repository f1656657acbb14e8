/**
 * Structured logs through pino: one JSON object per line on stdout, `{level, time, pid, hostname, ...fields,
 * msg}` with the level as its label (`"level":"info"`, not pino's number) so `jq 'select(.level=="warn")'`
 * and the tests' `e.msg === ...` filters read it directly. Writes are synchronous (pino.destination with
 * `sync: true`): a line logged is on stdout before the next statement, so a SIGKILL or `process.exit` loses
 * none. The interface is the protocol's Logger (warn) plus debug, info, error and child, so it plugs into
 * transports directly and callers never see pino.
 */
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import type { Logger } from './protocol/errors.js';

/** Severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured logger. Fields must be JSON-serializable; errors are reduced to their message. */
export interface StructuredLogger extends Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (e.g. {component: 'fleet'}). */
  child(fields: Record<string, unknown>): StructuredLogger;
}

/** Errors become their message and bigints numbers, at any depth (pino would write an Error as `{}`). */
function plain(v: unknown, depth = 0): unknown {
  if (v instanceof Error) return v.message;
  if (typeof v === 'bigint') return Number(v);
  if (depth > 8 || v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = plain(x, depth + 1);
  return out;
}

let stdout: DestinationStream | undefined;
/** One synchronous destination on fd 1 shared by every logger in the process. */
const stdoutDestination = () => (stdout ??= pino.destination({ dest: 1, sync: true }));

function adapt(p: Pino): StructuredLogger {
  const at = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (!p.isLevelEnabled(level)) return;
    if (fields) p[level](fields, message);
    else p[level](message);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (fields) => adapt(p.child(plain(fields) as Record<string, unknown>)) };
}

/**
 * A pino logger behind the StructuredLogger interface, writing lines at or above `level` (default info)
 * to stdout, or to `write` (one JSON line with its newline per call; tests). `base` fields go on every line.
 */
export function jsonLogger(opts: { level?: LogLevel; write?: (line: string) => void; base?: Record<string, unknown> } = {}): StructuredLogger {
  const destination: DestinationStream = opts.write ? { write: opts.write } : stdoutDestination();
  const p = pino(
    {
      level: opts.level ?? 'info',
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => plain(fields) as Record<string, unknown>,
      },
    },
    destination,
  );
  return adapt(opts.base ? p.child(plain(opts.base) as Record<string, unknown>) : p);
}

/** A logger that drops everything (tests that assert on behaviour, not on logs). */
export const quietLogger: StructuredLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => quietLogger,
};
