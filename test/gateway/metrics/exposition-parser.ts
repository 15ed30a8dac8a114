/**
 * A tiny, strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws
 * on any line that is not a comment, a HELP/TYPE line or a well-formed sample.
 */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help?: string;
  type?: string;
  samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE = new RegExp(`^(${NAME})(\\{(.*)\\})? (\\S+)( -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$/;

export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, samples: [] }));
    return f;
  };
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    let m: RegExpExecArray | null;
    if ((m = HELP.exec(line))) {
      const f = family(m[1]);
      if (f.help !== undefined) throw new Error(`second HELP, ${where}`);
      f.help = m[2].replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    } else if ((m = TYPE.exec(line))) {
      const f = family(m[1]);
      if (f.type !== undefined || f.samples.length) throw new Error(`TYPE after samples or twice, ${where}`);
      f.type = m[2];
    } else if (line.startsWith('#')) {
      // other comments are allowed
    } else if ((m = SAMPLE.exec(line))) {
      const [, name, , labelText, valueText] = m;
      if (!VALUE.test(valueText)) throw new Error(`bad value, ${where}`);
      const labels: Record<string, string> = {};
      if (labelText) {
        LABEL.lastIndex = 0;
        while (LABEL.lastIndex < labelText.length) {
          const start = LABEL.lastIndex;
          const l = LABEL.exec(labelText);
          if (!l || l.index !== start) throw new Error(`bad labels, ${where}`);
          if (l[1] in labels) throw new Error(`duplicate label, ${where}`);
          labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
        }
      }
      const base = [...families.keys()].reverse().find((f) => name === f || /^(.*)_(bucket|sum|count)$/.exec(name)?.[1] === f);
      if (!base) throw new Error(`sample without a preceding TYPE/HELP, ${where}`);
      const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
      family(base).samples.push({ name, labels, value });
    } else if (line.trim() !== '') {
      throw new Error(`not an exposition line, ${where}`);
    }
  });
  return families;
}
