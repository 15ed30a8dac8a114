/**
 * Structured JSON logging. Each service keeps its messages in one catalogue with stable IDs
 * (see `messages.ts` of each service), so operators can alert on an ID rather than on text.
 * Fields must be pseudonymous: never pass a dataset or an identified value.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogRecord {
  /** Stable message ID, e.g. `dimse.association.rejected`. */
  id: string;
  msg: string;
  [field: string]: unknown;
}

export interface Logger {
  log(level: LogLevel, record: LogRecord): void;
  debug(record: LogRecord): void;
  info(record: LogRecord): void;
  warn(record: LogRecord): void;
  error(record: LogRecord): void;
  /** A logger that adds `service` (and any other fixed fields) to every record. */
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stderr by default. */
  write?: (line: string) => void;
  fields?: Record<string, unknown>;
  now?: () => Date;
}

/** Creates a JSON-lines logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const fixed = options.fields ?? {};
  const log = (level: LogLevel, record: LogRecord): void => {
    if (ORDER[level] < min) return;
    write(JSON.stringify({ time: now().toISOString(), level, ...fixed, ...record, ...errorFields(record) }) + '\n');
  };
  return {
    log,
    debug: (r) => log('debug', r),
    info: (r) => log('info', r),
    warn: (r) => log('warn', r),
    error: (r) => log('error', r),
    child: (fields) => createLogger({ ...options, fields: { ...fixed, ...fields } }),
  };
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });

// Errors do not survive JSON.stringify; keep their message and code, never their stack's data.
function errorFields(record: LogRecord): Record<string, unknown> {
  const err = record.err;
  if (!(err instanceof Error)) return {};
  return { err: { name: err.name, message: err.message, code: (err as { code?: unknown }).code } };
}
