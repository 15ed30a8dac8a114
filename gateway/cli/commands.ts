/** The registry of `limen` subcommands: one entry per command, each implemented in its own file. */
import { auditCommand } from './audit.js';
import type { Command } from './command.js';
import { configCommand } from './config-check.js';
import { deidentifyCommand } from './deidentify.js';
import { segmentCommand } from './segment.js';
import { startCommand } from './start.js';
import { tokenCommand } from './token.js';

export const commands: Record<string, Command> = {
  start: startCommand,
  deidentify: deidentifyCommand,
  segment: segmentCommand,
  config: configCommand,
  token: tokenCommand,
  audit: auditCommand,
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: limen <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}
