/** A `limen` subcommand. */
export interface Command {
  /** One line for `limen --help`. */
  summary: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
