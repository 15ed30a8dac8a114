import { parseArgs, type ParseArgsConfig } from 'node:util';
/** A `limen` subcommand. */
export interface Command {
  /** One line for `limen --help`. */
  summary: string;
  /**
   * The command's full usage, printed on stdout (exit 0) for `limen <command> --help` or `-h`,
   * anywhere before a `--`, and for `limen help <command>`. A command without one is run with
   * `--help` and answers it itself.
   */
  usage?: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/**
 * A failure a command explains in one message that already names the command (`limen audit
 * verify: no Limen database at …`): printed as it is, without a stack, with its exit code.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** True when `--help` or `-h` comes before any `--` (after it, every argument is a positional). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** `limen <command>: unexpected argument(s) 'a', 'b'`, for positionals a command has no place for. */
export function surplusArguments(command: string, surplus: readonly string[]): string {
  return `limen ${command}: unexpected argument${surplus.length > 1 ? 's' : ''} ${surplus.map((s) => `'${s}'`).join(', ')}`;
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * Parses a command's options and positionals, and answers what needs nothing of the command:
 * `--help`/`-h` (its usage on stdout, exit 0) and an unknown or malformed option (the reason and
 * the usage on stderr, exit 2). Otherwise the parsed arguments.
 */
export function parseCommandArgs<const O extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: O, usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { ...options, ...HELP_OPTION } });
  } catch (e) {
    process.stderr.write(`limen ${command}: ${(e as Error).message}\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}
