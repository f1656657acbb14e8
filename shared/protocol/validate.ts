/**
 * One small module of validators for everything that arrives off the wire. Each check is a pure function
 * from `unknown` to a {@link Result} whose reason names the path and the offending value, e.g.
 * `body.logits.shape[1]: expected integer >= 0, got -3`. Objects are strict: unknown keys are refused,
 * because a v1 peer that sends fields we do not understand should bump the version instead.
 */
import { ok, reject, type Result } from './errors.js';

/** A validator. `optional` marks object fields that may be absent. */
export type Check<T> = ((value: unknown, path: string) => Result<T>) & { optional?: boolean };

/** Short, safe description of an untrusted value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `array(${value.length})`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return value.constructor?.name === 'Object' ? 'object' : String(value.constructor?.name);
  return String(value);
}

const fail = (path: string, expected: string, value: unknown): Result<never> =>
  reject('bad_shape', `${path}: expected ${expected}, got ${describe(value)}`);

/** A string, optionally bounded in length and matched against a pattern. */
export function str(opts: { max?: number; min?: number; pattern?: RegExp } = {}): Check<string> {
  const { max = 1024, min = 0, pattern } = opts;
  return (value, path) => {
    if (typeof value !== 'string') return fail(path, 'string', value);
    if (value.length < min || value.length > max) return fail(path, `string of length ${min}..${max}`, value);
    if (pattern && !pattern.test(value)) return fail(path, `string matching ${pattern}`, value);
    return ok(value);
  };
}

/** A safe integer within bounds. */
export function int(opts: { min?: number; max?: number } = {}): Check<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  return (value, path) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
      ? ok(value)
      : fail(path, `integer in ${min}..${max}`, value);
}

/** A finite number within bounds (NaN and infinities are refused: they poison aggregation). */
export function num(opts: { min?: number; max?: number } = {}): Check<number> {
  const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE } = opts;
  return (value, path) =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max
      ? ok(value)
      : fail(path, `finite number in ${min}..${max}`, value);
}

/** A boolean (msgpack true/false; 0 and 1 are refused, they usually mean a confused sender). */
export function bool(): Check<boolean> {
  return (value, path) => (typeof value === 'boolean' ? ok(value) : fail(path, 'boolean', value));
}

/** Raw bytes (msgpack bin), with an exact or maximum length. */
export function bytes(opts: { len?: number; max?: number } = {}): Check<Uint8Array> {
  return (value, path) => {
    if (!(value instanceof Uint8Array)) return fail(path, 'bytes', value);
    if (opts.len !== undefined && value.length !== opts.len) return fail(path, `${opts.len} bytes`, value);
    if (opts.max !== undefined && value.length > opts.max) return fail(path, `at most ${opts.max} bytes`, value);
    return ok(value);
  };
}

/** One of a fixed set of literal values. */
export function oneOf<const T extends readonly (string | number)[]>(values: T): Check<T[number]> {
  return (value, path) =>
    values.includes(value as T[number]) ? ok(value as T[number]) : fail(path, `one of ${values.join(', ')}`, value);
}

/** An array of items, bounded in length. */
export function arrayOf<T>(item: Check<T>, opts: { max: number; min?: number }): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) return fail(path, 'array', value);
    if (value.length > opts.max || value.length < (opts.min ?? 0))
      return fail(path, `array of length ${opts.min ?? 0}..${opts.max}`, value);
    const out: T[] = [];
    for (let i = 0; i < value.length; i++) {
      const r = item(value[i], `${path}[${i}]`);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return ok(out);
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A map from bounded string keys to checked values. */
export function recordOf<T>(item: Check<T>, opts: { maxKeys: number; keyPattern: RegExp }): Check<Record<string, T>> {
  return (value, path) => {
    if (!isPlainObject(value)) return fail(path, 'object', value);
    const keys = Object.keys(value);
    if (keys.length > opts.maxKeys) return fail(path, `at most ${opts.maxKeys} keys`, `${keys.length} keys`);
    const out: Record<string, T> = {};
    for (const k of keys) {
      if (!opts.keyPattern.test(k)) return fail(`${path}.${k.slice(0, 40)}`, `key matching ${opts.keyPattern}`, k);
      const r = item(value[k], `${path}.${k}`);
      if (!r.ok) return r;
      out[k] = r.value;
    }
    return ok(out);
  };
}

/** Marks a field of {@link obj} as optional; `undefined` and absence are both accepted. */
export function opt<T>(check: Check<T>): Check<T> {
  const wrapped: Check<T> = (value, path) => check(value, path);
  wrapped.optional = true;
  return wrapped;
}

/** Every key of T must have a check; this ties the runtime schema to the declared body type. */
export type Shape<T> = { [K in keyof T]-?: Check<T[K]> };

/** A strict plain object: required keys present, optional keys checked when present, unknown keys refused. */
export function obj<T>(shape: Shape<T>): Check<T> {
  const entries = Object.entries(shape) as [string, Check<unknown>][];
  const known = new Set(entries.map(([k]) => k));
  return (value, path) => {
    if (!isPlainObject(value)) return fail(path, 'object', value);
    for (const k of Object.keys(value)) {
      if (!known.has(k)) return reject('bad_shape', `${path}.${k.slice(0, 40)}: no such field (got ${describe(value[k])})`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, check] of entries) {
      const v = value[k];
      if (v === undefined && check.optional) continue;
      const r = check(v, `${path}.${k}`);
      if (!r.ok) return r;
      out[k] = r.value;
    }
    return ok(out as T);
  };
}

/**
 * Adds a cross-field rule to a check, for constraints one field cannot express alone (a label per input,
 * a histogram per class). `rule` returns the offending path and message, or undefined when the value is fine.
 */
export function refine<T>(check: Check<T>, rule: (value: T, path: string) => string | undefined): Check<T> {
  const wrapped: Check<T> = (value, path) => {
    const r = check(value, path);
    if (!r.ok) return r;
    const problem = rule(r.value, path);
    return problem === undefined ? r : reject('bad_shape', problem);
  };
  wrapped.optional = check.optional;
  return wrapped;
}
