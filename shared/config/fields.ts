/**
 * Field readers for JSON config files (coordinator.json, agent.json). Each fills a default when the field
 * is absent and otherwise checks it, throwing a ConfigError whose message starts with the field's path
 * (`agent.http.port: must be an integer in 0..65535, got "80a"`), so users know exactly what to fix.
 */

/** A validation failure; the message starts with the field's path. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** An object section whose keys must all be in `allowed`; absent means {}. */
export function section(raw: unknown, path: string, allowed: string[]): Obj {
  if (raw === undefined) return {};
  if (!isObj(raw)) throw new ConfigError(`${path}: must be an object, got ${show(raw)}`);
  for (const k of Object.keys(raw)) if (!allowed.includes(k)) throw new ConfigError(`${path}.${k}: unknown option; valid: ${allowed.join(', ')}`);
  return raw;
}

export function bool(v: unknown, path: string, d: boolean): boolean {
  if (v === undefined) return d;
  if (typeof v !== 'boolean') throw new ConfigError(`${path}: must be true or false, got ${show(v)}`);
  return v;
}

export function int(v: unknown, path: string, d: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return d;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${path}: must be an integer in ${min}..${max}, got ${show(v)}`);
  return v;
}

/** A finite number in [min, max]. */
export function num(v: unknown, path: string, d: number, min: number, max = Number.MAX_VALUE): number {
  if (v === undefined) return d;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ConfigError(`${path}: must be a number in ${min}..${max}, got ${show(v)}`);
  return v;
}

export function str(v: unknown, path: string, d: string, pattern?: RegExp): string {
  if (v === undefined) return d;
  if (typeof v !== 'string' || v === '' || (pattern && !pattern.test(v))) throw new ConfigError(`${path}: must be a non-empty string${pattern ? ` matching ${pattern}` : ''}, got ${show(v)}`);
  return v;
}

export function oneOf<T extends string>(v: unknown, path: string, d: T, values: readonly T[]): T {
  if (v === undefined) return d;
  if (!values.includes(v as T)) throw new ConfigError(`${path}: must be one of ${values.join(', ')}, got ${show(v)}`);
  return v as T;
}

/** Reads a JSON config file, with errors that name the file. */
export function readJsonConfig(file: string, readText: (f: string) => string): unknown {
  let text: string;
  try {
    text = readText(file);
  } catch (e) {
    throw new ConfigError(`config file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}
