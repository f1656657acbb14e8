/**
 * A strict reader of the Prometheus text exposition format (0.0.4) for tests: every line must be a
 * `# HELP`, a `# TYPE` or a sample of a metric whose TYPE came before it, so a malformed scrape fails
 * the test instead of slipping past a regular expression.
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed scrape. */
export interface Scrape {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample of `name` whose labels include `labels`; throws if none or several. */
  value(name: string, labels?: Record<string, string>): number;
  /** Every sample of `name`. */
  all(name: string): Sample[];
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    LABEL.lastIndex = i;
    const m = LABEL.exec(text);
    if (!m) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    out[m[1]] = m[2].replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    i = LABEL.lastIndex;
    if (text[i] === ',') i++;
  }
  return out;
}

const parseValue = (v: string) => (v === 'Nan' || v === 'NaN' ? NaN : v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));

/** Parses an exposition; throws on any line that is not HELP, TYPE or a typed sample. */
export function parsePrometheus(text: string): Scrape {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) help.set(m[1], m[2]);
    else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) types.set(m[1], m[2]);
    else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line))) {
      const [, name, labels, value] = m;
      const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
      if (!family) throw new Error(`sample before its # TYPE: ${JSON.stringify(line)}`);
      const v = parseValue(value);
      if (Number.isNaN(v) && !/^nan$/i.test(value)) throw new Error(`bad value in ${JSON.stringify(line)}`);
      samples.push({ name, labels: labels ? parseLabels(labels, line) : {}, value: v });
    } else throw new Error(`not exposition format: ${JSON.stringify(line)}`);
  }
  const all = (name: string) => samples.filter((s) => s.name === name);
  return {
    types,
    help,
    samples,
    all,
    value(name, labels = {}) {
      const hits = all(name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} ${JSON.stringify(labels)}; have ${JSON.stringify(all(name))}`);
      return hits[0].value;
    },
  };
}
