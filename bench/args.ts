/** Command-line flags of the bench scripts: `--name value` pairs, checked against the flags a script knows. */

export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The integer `text` spells if it is one >= min, else undefined (Number('') is 0, so blanks are refused first). */
function parseInteger(text: string, min: number): number | undefined {
  const v = Number(text);
  return text.trim() !== '' && Number.isInteger(v) && v >= min ? v : undefined;
}

/** `--name n`, an integer >= min (`fallback` when absent); throws naming the flag otherwise. */
export function integer(name: string, fallback: number, min: number): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const v = parseInteger(raw, min);
  if (v === undefined) throw new Error(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

export function positiveInt(name: string, fallback: number): number {
  return integer(name, fallback, 1);
}

/** `--name a,b,c`, integers >= min (`fallback` when absent); throws naming the flag and the bad entry. */
export function integerList(name: string, fallback: number[], min: number): number[] {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  return raw.split(',').map((part) => {
    const v = parseInteger(part, min);
    if (v === undefined) throw new Error(`--${name} must be a comma-separated list of integers >= ${min}, got ${JSON.stringify(part)} in ${raw}`);
    return v;
  });
}

/** Throws on a flag the script does not know, naming the ones it does. */
export function checkFlags(known: string[]): void {
  for (const a of process.argv.slice(2)) {
    if (a.startsWith('--') && !known.includes(a.slice(2))) throw new Error(`unknown option ${a}; the options are ${known.map((f) => `--${f}`).join(', ')}`);
  }
}
