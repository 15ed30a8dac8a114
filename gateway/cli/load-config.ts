/** Loading the configuration for a command, with every error printed as `path: reason`. */
import { formatConfigErrors, loadConfig, type LimenConfig } from '../../config/index.js';
import { compileRoutes, routeIssues } from '../ingest/index.js';
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
    return { ok: false, report: [formatConfigErrors(r.errors), ...routes.map((i) => `${i.path}: ${i.message}`)].join('\n') };
  }
  const compiled = compileRoutes(r.config);
  if (!compiled.ok) return { ok: false, report: compiled.issues.map((i) => `${i.path}: ${i.message}`).join('\n') };
  return r;
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
