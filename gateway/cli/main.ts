#!/usr/bin/env node
/** `limen`: the command-line face of the gateway. Each subcommand lives in its own file. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProjectRoot } from '../viewer/paths.js';
import { CommandError, wantsHelp, surplusArguments, type Command } from './command.js';
import { commands, usage } from './commands.js';

const FOOTER = `
limen <command> --help, or limen help <command>: the command's usage
limen --version: the version
`;

/** The version in Limen's package.json (found upwards from this file: sources or dist/). */
function packageVersion(): string {
  const root = findProjectRoot(import.meta.url);
  return (root && (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version) || 'unknown';
}

/** Prints a command's usage (stdout, exit 0); a command without one answers `--help` itself. */
async function help(command: Command): Promise<number> {
  if (command.usage === undefined) return command.run(['--help']);
  process.stdout.write(command.usage);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    process.stderr.write(`limen: no command given\n\n${usage()}${FOOTER}`);
    return 2;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    process.stdout.write(`${usage()}${FOOTER}`);
    return 0;
  }
  if (name === '--version') {
    if (rest.length) return usageError(surplusArguments('--version', rest));
    process.stdout.write(`limen ${packageVersion()}\n`);
    return 0;
  }
  if (name === 'help') {
    const [topic, ...surplus] = rest;
    const entry = Object.hasOwn(commands, topic) ? commands[topic] : undefined;
    if (!entry) return usageError(`limen help: unknown command '${topic}'`);
    if (surplus.length) return usageError(surplusArguments('help', surplus));
    return help(await entry.load());
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) return usageError(`limen: unknown command '${name}'`);
  const command = await entry.load();
  if (wantsHelp(rest)) return help(command);
  return command.run(rest);
}

function usageError(message: string): number {
  process.stderr.write(`${message}\n\n${usage()}${FOOTER}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof CommandError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`limen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
