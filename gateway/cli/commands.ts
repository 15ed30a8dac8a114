/**
 * The registry of `limen` subcommands: one entry per command, each implemented in its own file
 * and loaded only when run, so `limen deidentify` does not pay for the gateway or the pipeline.
 */
import type { Command } from './command.js';

interface Entry {
  summary: string;
  load(): Promise<Command>;
}

export const commands: Record<string, Entry> = {
  start: { summary: 'run the gateway (HTTP, DIMSE, worker, scheduler) until SIGTERM', load: async () => (await import('./start.js')).startCommand },
  healthcheck: { summary: 'probe /healthz where limen start listens with this configuration (for HEALTHCHECK)', load: async () => (await import('./healthcheck.js')).healthcheckCommand },
  deidentify: { summary: 'de-identify DICOM files (PS3.15 Basic Profile and options)', load: async () => (await import('./deidentify.js')).deidentifyCommand },
  segment: { summary: 'segment a CT series into seg.dcm, model.glb, model.stl and report.json', load: async () => (await import('./segment.js')).segmentCommand },
  config: { summary: 'config check <file>: validate a configuration file', load: async () => (await import('./config-check.js')).configCommand },
  token: { summary: 'token create --role <role> [--user <id>] [--ttl <dur>] | list [--json] | revoke <id>: API tokens', load: async () => (await import('./token.js')).tokenCommand },
  audit: { summary: 'audit verify: check the audit trail hash chain | export --out <dir>: write it as DICOM PS3.15 audit messages', load: async () => (await import('./audit.js')).auditCommand },
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: limen <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}
