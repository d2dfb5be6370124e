/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): every line must be a
 * `# HELP`, a `# TYPE`, a comment, blank, or a sample of a declared family; label values use the
 * format's escapes; values are floats, `±Inf` or `NaN` (any case, as Go's ParseFloat). Throws on the first bad line.
 */
export interface Exposition {
  types: Map<string, string>;
  /** `name{a="1",b="2"}` (labels in the order written) → value. */
  samples: Map<string, number>;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(`^(${NAME})(\\{(?:${LABEL}(?:,${LABEL})*,?)?\\})? (\\S+)(?: (-?\\d+))?$`);
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line === '' || (line.startsWith('#') && !/^# (HELP|TYPE) /.test(line))) return;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      if (!new RegExp(`^${NAME}$`).test(type[1]!) || !TYPES.has(type[2]!) || types.has(type[1]!)) throw new Error(`bad TYPE, ${where}`);
      return void types.set(type[1]!, type[2]!);
    }
    if (/^# HELP /.test(line)) {
      if (!new RegExp(`^# HELP ${NAME}( .*)?$`).test(line)) throw new Error(`bad HELP, ${where}`);
      return;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a sample, ${where}`);
    const [, name, labels = '', value] = sample as unknown as [string, string, string | undefined, string];
    if (!familyOf(name!, types)) throw new Error(`sample of an undeclared family, ${where}`);
    const number = parseValue(value);
    if (number === null) throw new Error(`bad value, ${where}`);
    samples.set(`${name}${labels}`, number);
  });
  return { types, samples };
}

/** Go's strconv.ParseFloat, which Prometheus uses: `NaN` and `Inf` in any case, with a sign for Inf. */
function parseValue(value: string): number | null {
  if (/^nan$/i.test(value)) return NaN;
  const inf = /^([+-]?)inf(inity)?$/i.exec(value);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? Number(value) : null;
}

function familyOf(name: string, types: Map<string, string>): string | null {
  if (types.has(name)) return name;
  for (const [family, type] of types)
    if ((SUFFIXES[type] ?? []).some((suffix) => suffix !== '' && name === family + suffix)) return family;
  return null;
}
