import { resolve } from 'node:path';
import type { ConfigError, ConfigPath } from './errors.js';
import { formatPath } from './errors.js';
import { parseDatabaseUrl } from './database.js';
import { closest } from './issues.js';
import { decodeMasterKey, MASTER_KEY_BYTES, SecretKey } from './master-key.js';

/** The environment as the loader reads it (`process.env` or a test's own). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Names the config file when no file is passed. */
export const CONFIG_FILE_VARIABLE = 'LIMEN_CONFIG';
/** The master key itself (64 hex digits or base64 of 32 bytes): kept out of files. */
export const MASTER_KEY_VARIABLE = 'LIMEN_MASTER_KEY';

type ValueKind = 'string' | 'port' | 'path' | 'database-url';

/** `LIMEN_*` variables that override a config field. They win over the file. */
export const ENV_OVERRIDES: Readonly<Record<string, { path: ConfigPath; kind: ValueKind }>> = {
  LIMEN_DATA_DIR: { path: ['dataDir'], kind: 'path' },
  LIMEN_HTTP_HOST: { path: ['http', 'host'], kind: 'string' },
  LIMEN_HTTP_PORT: { path: ['http', 'port'], kind: 'port' },
  LIMEN_PUBLIC_URL: { path: ['http', 'publicUrl'], kind: 'string' },
  LIMEN_DIMSE_HOST: { path: ['dimse', 'host'], kind: 'string' },
  LIMEN_DIMSE_PORT: { path: ['dimse', 'port'], kind: 'port' },
  LIMEN_AE_TITLE: { path: ['dimse', 'aeTitle'], kind: 'string' },
  LIMEN_DATABASE_URL: { path: ['database', 'url'], kind: 'database-url' },
  LIMEN_MASTER_KEY_FILE: { path: ['masterKey', 'file'], kind: 'path' },
};

/**
 * `LIMEN_*` variables read outside the configuration, so not misspellings: the log level (`limen
 * start`), the viewer download (`scripts/fetch-ohif.mjs`), and the tests' and benchmarks' own.
 */
export const OTHER_VARIABLES: readonly string[] = Object.freeze([
  'LIMEN_LOG_LEVEL',
  'LIMEN_SKIP_VIEWER',
  'LIMEN_VIEWER_STRICT',
  'LIMEN_TEST_DATABASE_URL',
  'LIMEN_FUZZ_SEED',
  'LIMEN_FUZZ_CASE',
  'LIMEN_FUZZ_CASES',
  'LIMEN_SCREENSHOT_DIR',
  'LIMEN_VIEWER_TEST_PORT',
  'LIMEN_BENCH_NETNS',
]);

const PREFIX = 'LIMEN_';

/** Every `LIMEN_*` variable some part of Limen reads. */
export const KNOWN_VARIABLES: readonly string[] = Object.freeze([CONFIG_FILE_VARIABLE, MASTER_KEY_VARIABLE, ...Object.keys(ENV_OVERRIDES), ...OTHER_VARIABLES]);

/**
 * The `LIMEN_*` variables set that nothing reads (a misspelling is otherwise ignored without a
 * word), each with the known name nearest to it when one is near enough to be the one meant.
 */
export function unknownVariables(env: Environment): { variable: string; suggestion?: string }[] {
  return Object.keys(env)
    .filter((name) => name.startsWith(PREFIX) && !KNOWN_VARIABLES.includes(name))
    .sort()
    .map((variable) => {
      // Compared without the prefix they all share, which would make any two names look alike.
      const suffix = closest(variable.slice(PREFIX.length), KNOWN_VARIABLES.map((v) => v.slice(PREFIX.length)));
      return suffix === undefined ? { variable } : { variable, suggestion: PREFIX + suffix };
    });
}

/** One field set from the environment. */
export interface EnvOverride {
  variable: string;
  path: ConfigPath;
  value: unknown;
}

/** What the environment contributes: field overrides, the master key, and its own errors. */
export interface EnvironmentReading {
  overrides: EnvOverride[];
  masterKey?: SecretKey;
  errors: ConfigError[];
}

/**
 * Reads the `LIMEN_*` overrides. An empty variable counts as unset. Relative paths in the
 * environment resolve against `cwd` (where the command was typed), not the config file.
 */
export function readEnvironment(env: Environment, cwd: string): EnvironmentReading {
  const overrides: EnvOverride[] = [];
  const errors: ConfigError[] = [];
  for (const [variable, { path, kind }] of Object.entries(ENV_OVERRIDES)) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    switch (kind) {
      case 'port': {
        const text = raw.trim();
        if (!/^[0-9]+$/.test(text)) {
          errors.push({
            code: 'invalid_env',
            path: formatPath(path),
            variable,
            message: `${variable} must be a whole number (a port), got ${JSON.stringify(raw)}`,
          });
          continue;
        }
        overrides.push({ variable, path, value: Number(text) });
        break;
      }
      case 'path':
        overrides.push({ variable, path, value: resolve(cwd, raw) });
        break;
      case 'database-url': {
        // A relative sqlite path is made absolute here, against cwd; a bad URL is left to the schema.
        const parsed = parseDatabaseUrl(raw, cwd);
        overrides.push({ variable, path, value: parsed.ok ? parsed.database.url : raw });
        break;
      }
      case 'string':
        overrides.push({ variable, path, value: raw });
        break;
    }
  }

  let masterKey: SecretKey | undefined;
  const keyText = env[MASTER_KEY_VARIABLE];
  if (keyText !== undefined && keyText !== '') {
    const bytes = decodeMasterKey(keyText);
    if (bytes === undefined) {
      errors.push({
        code: 'invalid_env',
        path: 'masterKey',
        variable: MASTER_KEY_VARIABLE,
        message: `${MASTER_KEY_VARIABLE} is not a ${MASTER_KEY_BYTES}-byte key written as 64 hexadecimal digits or base64`,
      });
    } else {
      masterKey = new SecretKey(bytes);
    }
    const keyFile = env.LIMEN_MASTER_KEY_FILE;
    if (keyFile !== undefined && keyFile !== '') {
      errors.push({
        code: 'conflicting_env',
        path: 'masterKey',
        variable: MASTER_KEY_VARIABLE,
        message: `${MASTER_KEY_VARIABLE} and LIMEN_MASTER_KEY_FILE are both set; set only one`,
      });
    }
  }
  return { overrides, masterKey, errors };
}

/**
 * The input with the overrides written in (a copy). An override under a section that is
 * not a mapping is skipped: the schema reports that section's type, which is the real error.
 */
export function applyOverrides(input: Record<string, unknown>, overrides: readonly EnvOverride[]): Record<string, unknown> {
  const out = structuredClone(input);
  for (const { path, value } of overrides) {
    let node: Record<string, unknown> = out;
    let blocked = false;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined) node[key] = {};
      else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        blocked = true;
        break;
      }
      node = node[key] as Record<string, unknown>;
    }
    if (!blocked) node[String(path[path.length - 1])] = value;
  }
  return out;
}
