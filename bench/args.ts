/** Command-line flags of the bench scripts: `--name value` pairs, checked against the flags a script knows. */

export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function positiveInt(name: string, fallback: number): number {
  const v = Number(arg(name) ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${arg(name)}`);
  return v;
}

/** Throws on a flag the script does not know, naming the ones it does. */
export function checkFlags(known: string[]): void {
  for (const a of process.argv.slice(2)) {
    if (a.startsWith('--') && !known.includes(a.slice(2))) throw new Error(`unknown option ${a}; the options are ${known.map((f) => `--${f}`).join(', ')}`);
  }
}
