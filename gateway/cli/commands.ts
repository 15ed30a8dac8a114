/** The registry of `limen` subcommands: one entry per command, each implemented in its own file. */
export interface Command {
  /** One line for `limen --help`. */
  summary: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: limen <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}
