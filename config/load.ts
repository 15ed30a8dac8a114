import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { applyOverrides, CONFIG_FILE_VARIABLE, readEnvironment, type Environment } from './env.js';
import { ConfigLoadError, type ConfigError } from './errors.js';
import { finalizeConfig } from './finalize.js';
import { issuesToErrors } from './issues.js';
import { crossFieldErrors } from './rules.js';
import { modelsSchema } from './models.js';
import { routeSchema, type RouteConfig } from './route.js';
import { configSchema, type LimenConfig } from './schema.js';
import { parseYamlConfig, type YamlConfigSource } from './yaml-source.js';

/** Where a configuration comes from. */
export interface LoadConfigOptions {
  /** The YAML file; absent: `LIMEN_CONFIG`; neither: embedded defaults. Relative to `cwd`. */
  file?: string;
  /** `LIMEN_*` overrides are read from here. Default: `process.env`. */
  env?: Environment;
  /** Default: `process.cwd()`. */
  cwd?: string;
}

export type LoadConfigResult =
  | { ok: true; config: LimenConfig; /** The absolute path of the file read, if any. */ file?: string; /** The file's text, to point at a path in it. */ source?: YamlConfigSource }
  | { ok: false; errors: ConfigError[]; valid?: ValidParts; source?: YamlConfigSource };

/**
 * Of a refused configuration, the parts that are valid on their own, so the checks made after
 * validation (a route's profile and model, which only the gateway can check) still report on
 * them in the same run, and say nothing of a route whose own fields failed.
 */
export interface ValidParts {
  /** The routes written in the configuration whose own fields are valid. */
  routes: Record<string, Pick<RouteConfig, 'deidentification' | 'model'>>;
  /** `models.dir`, absolute; absent when `models` is not valid itself. */
  modelsDir?: string;
}

/**
 * Loads and validates the configuration: the YAML file, then `LIMEN_*` overrides. Every
 * error is collected (file syntax, schema, environment, cross-field rules) and returned
 * together, each with its path; nothing is thrown for a bad configuration.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadConfigResult {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const fileOption = options.file ?? (env[CONFIG_FILE_VARIABLE] || undefined);

  let source: YamlConfigSource | undefined;
  let file: string | undefined;
  if (fileOption !== undefined) {
    file = resolve(cwd, fileOption);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      return { ok: false, errors: [{ code: 'file_unreadable', path: '', message: `cannot read ${file}: ${reason}` }] };
    }
    const parsed = parseYamlConfig(text);
    if (!parsed.ok) return { ok: false, errors: [...parsed.errors, ...readEnvironment(env, cwd).errors] };
    source = parsed.source;
  }

  const result = validateConfig(source?.value ?? {}, { baseDir: file !== undefined ? dirname(file) : cwd, env, cwd, source });
  const where = { ...(file !== undefined && { file }), ...(source && { source }) };
  return result.ok ? { ok: true, config: result.config, ...where } : { ...result, ...(source && { source }) };
}

/** `loadConfig`, throwing a `ConfigLoadError` that lists every error. */
export function loadConfigOrThrow(options: LoadConfigOptions = {}): LimenConfig {
  const result = loadConfig(options);
  if (!result.ok) throw new ConfigLoadError(result.errors);
  return result.config;
}

/** How `validateConfig` treats relative paths and the environment. */
export interface ValidateConfigOptions {
  /** Relative paths in `input` resolve against this directory. */
  baseDir: string;
  /** Overrides to apply; absent: none (an admin change through the API is validated as written). */
  env?: Environment;
  /** Relative paths from the environment resolve against this. Default: `process.cwd()`. */
  cwd?: string;
  /** The file `input` came from, so errors can point at a line. */
  source?: YamlConfigSource;
}

/**
 * Validates a configuration given as data (a parsed file, or a change made through the admin
 * API). Same rules and errors as `loadConfig`.
 */
export function validateConfig(
  input: unknown,
  options: ValidateConfigOptions,
): { ok: true; config: LimenConfig } | { ok: false; errors: ConfigError[]; valid?: ValidParts } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ code: 'invalid_type', path: '', message: 'a configuration is a mapping of sections' }] };
  }
  const environment = readEnvironment(options.env ?? {}, options.cwd ?? process.cwd());
  const merged = applyOverrides(input as Record<string, unknown>, environment.overrides);

  const parsed = configSchema.safeParse(merged, { reportInput: true });
  const errors: ConfigError[] = [...environment.errors];
  if (!parsed.success) errors.push(...issuesToErrors(parsed.error.issues, configSchema));
  errors.push(...crossFieldErrors(merged));

  if (errors.length > 0) {
    return { ok: false, errors: errors.map((e) => attribute(e, environment.overrides, options.source)), valid: validParts(merged, options.baseDir) };
  }
  if (!parsed.success) throw new Error('unreachable: schema failed without errors');
  return { ok: true, config: finalizeConfig(parsed.data, { baseDir: options.baseDir, masterKey: environment.masterKey, retentionWritten: retentionWritten(merged) }) };
}

function validParts(input: Record<string, unknown>, baseDir: string): ValidParts {
  const routes: ValidParts['routes'] = {};
  if (isRecord(input.routes)) {
    for (const [name, route] of Object.entries(input.routes)) {
      const parsed = routeSchema.safeParse(route);
      if (parsed.success) routes[name] = parsed.data;
    }
  }
  const models = modelsSchema.safeParse(input.models ?? {});
  return { routes, ...(models.success && { modelsDir: resolve(baseDir, models.data.dir) }) };
}

/** The retention settings written in a (valid) input: each route's `retentionDays`, and the `retention` section when it says anything. */
function retentionWritten(input: Record<string, unknown>): string[] {
  const routes = isRecord(input.routes) ? Object.entries(input.routes).filter(([, r]) => isRecord(r) && r.retentionDays !== undefined) : [];
  const section = isRecord(input.retention) && Object.keys(input.retention).length > 0 ? ['retention'] : [];
  return [...routes.map(([name]) => `routes.${name}.retentionDays`), ...section];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Says where an error's value came from: the variable that set it, or the file's line. An error of
 * a rule across fields (with `causes`) points at its own path only when the file writes it, else at
 * the first cause the file writes, else nowhere; each cause a variable set is named in the message.
 */
function attribute(
  error: ConfigError,
  overrides: ReturnType<typeof readEnvironment>['overrides'],
  source: YamlConfigSource | undefined,
): ConfigError {
  if (error.variable !== undefined || error.path === '') return error;
  const setBy = (path: string) =>
    overrides.find((o) => {
      const p = o.path.join('.');
      return path === p || path.startsWith(`${p}.`);
    })?.variable;
  const variable = setBy(error.path);
  const causes = error.causes?.map((path) => ({ path, variable: setBy(path) }));
  const notes = [
    ...(variable !== undefined ? [`set by ${variable}`] : []),
    ...(causes ?? []).filter((c) => c.variable !== undefined).map((c) => `${c.path} set by ${c.variable}`),
  ];
  const attributed: ConfigError = {
    ...error,
    ...(variable !== undefined && { variable }),
    ...(notes.length > 0 && { message: `${error.message} ${notes.map((n) => `(${n})`).join(' ')}` }),
  };
  if (source === undefined) return attributed;
  if (causes === undefined) {
    // A field's own error: the variable, or its line (a field left out: the nearest parent written).
    if (variable !== undefined) return attributed;
    const position = source.locate(splitPath(error.path), error.code === 'unknown_key');
    return position === undefined ? attributed : { ...attributed, ...position };
  }
  const inFile = (path: string) => setBy(path) === undefined && source.has(splitPath(path));
  const where = [error.path, ...causes.map((c) => c.path)].find(inFile);
  const position = where === undefined ? undefined : source.locate(splitPath(where));
  return position === undefined ? attributed : { ...attributed, ...position };
}

/** `remoteAEs[0].route` → `['remoteAEs', 0, 'route']`. */
function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((\[\d+\])*)$/.exec(part);
    if (m === null) {
      out.push(part);
      continue;
    }
    if (m[1] !== '') out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}
