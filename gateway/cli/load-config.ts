/** Loading the configuration for a command, with every error printed as `path: reason`. */
import { formatConfigErrors, loadConfig, type LimenConfig } from '../../config/index.js';

/** The configuration from `--config` or LIMEN_CONFIG plus the environment, or undefined after printing why not. */
export function configOrReport(file: string | undefined, command: string): LimenConfig | undefined {
  const r = loadConfig({ file });
  if (r.ok) return r.config;
  process.stderr.write(`limen ${command}: the configuration is not valid:\n${formatConfigErrors(r.errors)}\n`);
  return undefined;
}
