/** Loading the configuration for a command, with every error printed as `path: reason`. */
import { formatConfigErrors, loadConfig, parsePath, type ConfigError, type LimenConfig, type YamlConfigSource } from '../../config/index.js';
import { compileRoutes, routeIssues, type RouteIssue } from '../ingest/index.js';
import { LOG_LEVELS, type LogLevel } from '../log/index.js';

/** The configuration from `--config` or LIMEN_CONFIG plus the environment, or undefined after printing why not. */
export function configOrReport(file: string | undefined, command: string): LimenConfig | undefined {
  const r = loadConfig({ file });
  if (r.ok) return r.config;
  process.stderr.write(`limen ${command}: the configuration is not valid:\n${formatConfigErrors(r.errors)}\n`);
  return undefined;
}

/**
 * The configuration as `limen start` serves it: validated, and each route's de-identification
 * profile and model compiled as the gateway compiles them. Otherwise every error, one
 * `path: reason` line each: validation's first, then the routes' (also those of a configuration
 * refused for other reasons, for the routes valid on their own).
 */
export function checkConfig(file: string | undefined): { ok: true; config: LimenConfig } | { ok: false; report: string } {
  const r = loadConfig({ file });
  if (!r.ok) {
    const routes = r.valid ? routeIssues(r.valid.routes, r.valid.modelsDir) : [];
    return { ok: false, report: formatConfigErrors([...r.errors, ...routeErrors(routes, r.source)]) };
  }
  const compiled = compileRoutes(r.config);
  if (!compiled.ok) return { ok: false, report: formatConfigErrors(routeErrors(compiled.issues, r.source)) };
  return r;
}

/** A route's problems as configuration errors, each at the line of the file that wrote it. */
function routeErrors(issues: readonly RouteIssue[], source: YamlConfigSource | undefined): ConfigError[] {
  return issues.map((i) => ({ code: 'route_not_compiled', path: i.path, message: i.message, ...source?.locate(parsePath(i.path)) }));
}

/** `checkConfig` for a command that serves: the configuration, or undefined after printing every error under the command's name. */
export function servableConfigOrReport(file: string | undefined, command: string): LimenConfig | undefined {
  const r = checkConfig(file);
  if (r.ok) return r.config;
  process.stderr.write(`limen ${command}: the configuration is not valid:\n${r.report}\n`);
  return undefined;
}

/** The level `limen start` logs at: LIMEN_LOG_LEVEL (empty or unset: info), or why it is none. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): { ok: true; level: LogLevel } | { ok: false; problem: string } {
  const level = env.LIMEN_LOG_LEVEL || 'info';
  if (LOG_LEVELS.includes(level as LogLevel)) return { ok: true, level: level as LogLevel };
  return { ok: false, problem: `LIMEN_LOG_LEVEL is ${JSON.stringify(level)}; it is one of ${LOG_LEVELS.join(', ')}` };
}
