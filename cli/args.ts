/** A small, strict argument parser: --flag value, --flag=value and boolean --flag; unknown flags are errors. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** 'string' flags take a value; 'boolean' flags do not. */
  type: 'string' | 'boolean';
  description: string;
  default?: string;
}

export type Flags = Record<string, FlagSpec>;

export interface Parsed {
  flags: Record<string, string | boolean | undefined>;
  positional: string[];
}

export function parseArgs(argv: string[], flags: Flags, command: string): Parsed {
  const out: Parsed = { flags: {}, positional: [] };
  for (const [name, spec] of Object.entries(flags)) if (spec.default !== undefined) out.flags[name] = spec.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out.positional.push(arg);
      continue;
    }
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const spec = flags[rawName];
    if (!spec) throw new UsageError(`${command}: unknown option --${rawName}; valid options: ${Object.keys(flags).map((f) => `--${f}`).join(', ') || '(none)'}`);
    if (spec.type === 'boolean') {
      out.flags[rawName] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${command}: --${rawName} needs a value`);
    out.flags[rawName] = value;
  }
  return out;
}

/** Reads a numeric flag, with a clear error naming the flag for non-numbers. */
export function numberFlag(parsed: Parsed, name: string, command: string): number | undefined {
  const v = parsed.flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${command}: --${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export function helpText(usage: string, summary: string, flags: Flags): string {
  const lines = [`Usage: ${usage}`, '', summary];
  const names = Object.keys(flags);
  if (names.length) {
    lines.push('', 'Options:');
    const width = Math.max(...names.map((n) => n.length + (flags[n].type === 'string' ? 8 : 0))) + 4;
    for (const n of names) {
      const left = `--${n}${flags[n].type === 'string' ? ' <value>' : ''}`;
      const def = flags[n].default !== undefined ? ` (default: ${flags[n].default})` : '';
      lines.push(`  ${left.padEnd(width)}${flags[n].description}${def}`);
    }
  }
  return lines.join('\n');
}
