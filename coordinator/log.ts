/**
 * Structured logs: one JSON object per line ({time, level, msg, ...fields}), the format pino writes, so
 * the same log shippers and `jq` filters work. Written by hand because pino is not a dependency yet; the
 * interface is the protocol's Logger (warn) plus info and error, so it plugs into transports directly.
 */
import type { Logger } from '../shared/protocol/errors.js';

/** Severity, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A structured logger. Fields must be JSON-serializable; errors are reduced to their message. */
export interface StructuredLogger extends Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (e.g. {component: 'fleet'}). */
  child(fields: Record<string, unknown>): StructuredLogger;
}

/** Writes JSON lines at or above `level` to `write` (default: stdout). */
export function jsonLogger(opts: { level?: LogLevel; write?: (line: string) => void; base?: Record<string, unknown> } = {}): StructuredLogger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const base = opts.base ?? {};
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const line = { time: Date.now(), level, msg, ...base, ...fields };
    write(JSON.stringify(line, (_, v) => (v instanceof Error ? v.message : typeof v === 'bigint' ? Number(v) : v)) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => jsonLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests that assert on behaviour, not on logs). */
export const quietLogger: StructuredLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => quietLogger,
};
