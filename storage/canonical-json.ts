/**
 * Canonical JSON for hashing: object keys sorted by code unit, no whitespace, `undefined`
 * members dropped. The same value always gives the same bytes, whichever order its keys
 * were built in or whichever database stored it.
 */

/** Serializes `value` canonically; throws on values JSON cannot represent (NaN, functions, cycles). */
export function canonicalJSON(value: unknown): string {
  return serialize(value, new Set());
}

function serialize(value: unknown, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot hold NaN or Infinity');
      return JSON.stringify(value);
    case 'object': {
      if (seen.has(value)) throw new TypeError('canonical JSON cannot hold a cycle');
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        out = `[${value.map((v) => (v === undefined ? 'null' : serialize(v, seen))).join(',')}]`;
      } else {
        const obj = (typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value) as Record<string, unknown>;
        if (obj === null || typeof obj !== 'object') {
          out = serialize(obj, seen);
        } else {
          const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
          out = `{${keys.map((k) => `${JSON.stringify(k)}:${serialize(obj[k], seen)}`).join(',')}}`;
        }
      }
      seen.delete(value);
      return out;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}
