/**
 * The Prometheus text exposition format, version 0.0.4: `# HELP`, `# TYPE`, then one line per
 * sample, `name{label="value"} number`. Escaping follows the format's rules: in HELP text `\`
 * and newline; in label values `\`, `"` and newline.
 */
/** The media type of `/metrics` responses. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface Sample {
  /** Appended to the family name: `''`, `_bucket`, `_sum`, `_count`. */
  suffix: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: Sample[];
}

export function renderFamilies(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const names = Object.keys(s.labels);
      const labels = names.length
        ? `{${names.map((n) => `${n}="${escapeLabelValue(s.labels[n])}"`).join(',')}}`
        : '';
      lines.push(`${f.name}${s.suffix}${labels} ${formatNumber(s.value)}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Formats a number as Prometheus expects (Go's float formatting, `+Inf`, `-Inf`, `NaN`). */
export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}
