/**
 * Media types as carried by Content-Type (RFC 9110 §8.3.1): `type/subtype` and parameters
 * whose values are tokens or quoted strings. Read leniently: names are case-insensitive,
 * whitespace around `;` and `=` is tolerated, a quoted value may hold `;` and escapes.
 */

export interface MediaType {
  /** Lower-cased `type/subtype`, e.g. `multipart/related`. */
  essence: string;
  /** Parameters by lower-cased name; values as given (unquoted, unescaped). */
  parameters: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses a Content-Type value; `null` when it is not `type/subtype[;params]`. */
export function parseMediaType(value: string | undefined | null): MediaType | null {
  if (!value) return null;
  let i = 0;
  const s = value;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  skipWs();
  const semi = s.indexOf(';', i);
  const essence = s.slice(i, semi < 0 ? s.length : semi).trim().toLowerCase();
  const [type, subtype, ...rest] = essence.split('/');
  if (!type || !subtype || rest.length > 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  const parameters: Record<string, string> = {};
  i = semi < 0 ? s.length : semi;
  while (i < s.length) {
    // at ';'
    i++;
    skipWs();
    if (i >= s.length) break;
    const eq = s.indexOf('=', i);
    if (eq < 0) return null;
    const name = s.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) return null;
    i = eq + 1;
    skipWs();
    let val = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const ch = s[i];
        if (ch === '\\' && i + 1 < s.length) {
          val += s[i + 1];
          i += 2;
        } else if (ch === '"') {
          i++;
          closed = true;
          break;
        } else {
          val += ch;
          i++;
        }
      }
      if (!closed) return null;
      skipWs();
      if (i < s.length && s[i] !== ';') return null;
    } else {
      const end = s.indexOf(';', i);
      val = s.slice(i, end < 0 ? s.length : end).trim();
      i = end < 0 ? s.length : end;
    }
    // The first occurrence wins, as in most HTTP stacks.
    if (!(name in parameters)) parameters[name] = val;
  }
  return { essence, parameters };
}
