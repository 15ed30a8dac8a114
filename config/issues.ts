import type { z } from 'zod';
import { formatPath, type ConfigError, type ConfigErrorCode, type ConfigPath } from './errors.js';

/**
 * Turns zod issues into configuration errors with Limen's codes and plain messages. Schemas
 * give their own message where a field has a rule of its own (AE titles, UIDs, URLs); the
 * generic kinds are worded here. Values are named by type, not repeated, since some hold
 * secrets (a database URL's password).
 */
export function issuesToErrors(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path);
      for (const key of issue.keys) {
        const hint = closest(key, known);
        errors.push(
          error('unknown_key', [...path, key], `unknown key "${key}"${hint !== undefined ? `; did you mean "${hint}"?` : ''}`),
        );
      }
      continue;
    }
    const [code, message] = describe(issue);
    errors.push(error(code, path, message));
  }
  return errors;
}

function error(code: ConfigErrorCode, path: ConfigPath, message: string): ConfigError {
  return { code, path: formatPath(path), message };
}

function describe(issue: z.core.$ZodIssue): [ConfigErrorCode, string] {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return ['required', 'is required'];
      const received = (issue as { received?: string }).received ?? kindOf(input);
      return ['invalid_type', `expected ${expectedName(issue.expected)}, got ${received}`];
    }
    case 'too_small':
      return ['out_of_range', bound(issue.origin, 'at least', issue.minimum, issue.inclusive, 'greater than')];
    case 'too_big':
      return ['out_of_range', bound(issue.origin, 'at most', issue.maximum, issue.inclusive, 'less than')];
    case 'invalid_union': {
      const d = issue as { discriminator?: string; options?: unknown[] };
      if (d.discriminator !== undefined && d.options !== undefined) {
        const choices = d.options.map((o) => `"${String(o)}"`).join(', ');
        const missing = isRecord(input) && input[d.discriminator] === undefined;
        return missing ? ['required', `is required: one of ${choices}`] : ['invalid_value', `must be one of ${choices}`];
      }
      return ['invalid_value', issue.message];
    }
    case 'invalid_value':
      return ['invalid_value', `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`];
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? 'invalid key';
      return ['invalid_value', `invalid name: ${inner}`];
    }
    case 'custom': {
      const code = (issue.params as { code?: ConfigErrorCode } | undefined)?.code ?? 'invalid_value';
      return [code, issue.message];
    }
    default:
      return ['invalid_value', issue.message];
  }
}

function bound(origin: string, word: string, limit: number | bigint, inclusive: boolean | undefined, strict: string): string {
  const n = String(limit);
  switch (origin) {
    case 'string':
      return word === 'at least' && n === '1' && inclusive !== false ? 'cannot be empty' : `must have ${word} ${n} characters`;
    case 'array':
    case 'set':
      return `must list ${word} ${n} item${n === '1' ? '' : 's'}`;
    default:
      return inclusive === false ? `must be ${strict} ${n}` : `must be ${word} ${n}`;
  }
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    default:
      return expected;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'object':
      return 'a mapping';
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(value) ? 'a whole number' : 'a number';
    case 'boolean':
      return 'true or false';
    default:
      return typeof value;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys an object schema accepts at `path`, for "did you mean" hints; empty when unknown. */
function knownKeysAt(schema: z.ZodType, path: ConfigPath): string[] {
  let node: unknown = schema;
  for (const segment of [...path, undefined]) {
    node = unwrap(node);
    const def = defOf(node);
    if (def === undefined) return [];
    if (segment === undefined) {
      if (def.type === 'object') return Object.keys(def.shape as object);
      if (def.type === 'union') return [...new Set((def.options as unknown[]).flatMap((o) => keysOf(o)))];
      return [];
    }
    if (def.type === 'object') node = (def.shape as Record<string, unknown>)[String(segment)];
    else if (def.type === 'record') node = def.valueType;
    else if (def.type === 'array') node = def.element;
    else return [];
  }
  return [];
}

function keysOf(schema: unknown): string[] {
  const def = defOf(unwrap(schema));
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

function defOf(schema: unknown): Record<string, unknown> & { type?: string } | undefined {
  return (schema as { _zod?: { def?: Record<string, unknown> & { type?: string } } } | undefined)?._zod?.def;
}

/** Through defaults, optionals and transforms to the schema that holds the shape. */
function unwrap(schema: unknown): unknown {
  let node = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(node);
    if (def === undefined) return node;
    if (def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable') {
      node = def.innerType;
    } else if (def.type === 'pipe') {
      node = def.in;
    } else {
      return node;
    }
  }
  return node;
}

/** The known key nearest to a typo, if it is near enough to be the one meant. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: edits, with a swap of neighbours counted as one. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
