import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigError, ConfigPath } from './errors.js';

/** A place in the YAML text (1-based). */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A parsed config file: its value and a way to point at a path in its text. */
export interface YamlConfigSource {
  /** The file's mapping as plain data, `null` values removed (a key left empty counts as absent). */
  value: Record<string, unknown>;
  /**
   * Where `path` is written. `atKey`: the key itself (for unknown keys) rather than its value.
   * A path that is not in the file (a missing field) points at its nearest written parent.
   */
  locate(path: ConfigPath, atKey?: boolean): SourcePosition | undefined;
  /** Whether `path` itself is written in the file (with a value), not only a parent of it. */
  has(path: ConfigPath): boolean;
}

/** Parses a config file's text; syntax errors come back with line and column, all of them. */
export function parseYamlConfig(
  text: string,
): { ok: true; source: YamlConfigSource } | { ok: false; errors: ConfigError[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        code: 'yaml_syntax' as const,
        path: '',
        // The parser's own words point at an API; the operator needs to know what the line did.
        message: e.code === 'MULTIPLE_DOCS' ? 'a config file holds one YAML document, and a second one starts here (a "---" line starts a new document, a "..." line ends one): merge them into one' : `YAML syntax: ${e.message}`,
        ...position(e.pos[0]),
      })),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // An alias without its anchor, or one that expands past the alias limit, only shows here.
    return { ok: false, errors: [{ code: 'yaml_syntax', path: '', message: `YAML: ${(e as Error).message}` }] };
  }
  if (value !== null && value !== undefined && !isPlainRecord(value)) {
    return {
      ok: false,
      errors: [
        {
          code: 'invalid_type',
          path: '',
          message: 'the config file must hold a mapping (key: value lines) at its top level',
          ...position(doc.contents?.range?.[0] ?? 0),
        },
      ],
    };
  }
  const record = (withoutNulls(value ?? {}) as Record<string, unknown>) ?? {};
  return {
    ok: true,
    source: {
      value: record,
      locate: (path, atKey = false) => {
        const { offset } = locateOffset(doc, path, atKey);
        return offset === undefined ? undefined : position(offset);
      },
      has: (path) => locateOffset(doc, path, false).whole,
    },
  };
}

/** Where `path` is written, or its nearest written parent; `whole`: the path itself is, with a value. */
function locateOffset(doc: Document, path: ConfigPath, atKey: boolean): { offset: number | undefined; whole: boolean } {
  let node: unknown = doc.contents;
  let found: number | undefined = (node as Node | null)?.range?.[0];
  const parent = () => ({ offset: found, whole: false });
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const key = p.key as { value?: unknown } | null;
        return key !== null && typeof key === 'object' && String(key.value) === String(segment);
      });
      if (pair === undefined) return parent();
      const keyNode = pair.key as Node;
      const valueNode = pair.value as Node | null;
      // A key left empty (`port:`) counts as absent, as in the value.
      const hasValue = valueNode?.range !== undefined && !(isScalar(valueNode) && valueNode.value === null);
      if (last && (atKey || valueNode?.range === undefined)) return { offset: keyNode.range?.[0] ?? found, whole: hasValue };
      found = valueNode?.range?.[0] ?? keyNode.range?.[0] ?? found;
      if (last) return { offset: found, whole: hasValue };
      node = valueNode;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      const start = item?.range?.[0];
      if (start === undefined) return parent();
      found = start;
      if (last) return { offset: found, whole: !(isScalar(item) && item.value === null) };
      node = item;
    } else {
      return parent();
    }
  }
  return { offset: found, whole: true };
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (isPlainRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== null) out[k] = withoutNulls(v);
    }
    return out;
  }
  return value;
}
