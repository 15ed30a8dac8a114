#!/usr/bin/env node
/** `limen`: the command-line face of the gateway. Each subcommand lives in its own file. */
import { commands, usage } from './commands.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`limen: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await entry.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`limen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
