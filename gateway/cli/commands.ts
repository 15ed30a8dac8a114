/** The registry of `limen` subcommands: one entry per command, each implemented in its own file. */
import type { Command } from './command.js';
import { deidentifyCommand } from './deidentify.js';

export const commands: Record<string, Command> = {
  deidentify: deidentifyCommand,
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: limen <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}
