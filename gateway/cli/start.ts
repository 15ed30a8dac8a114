/** `limen start`: HTTP, DIMSE and the schedulers in one process, until SIGTERM or SIGINT; SIGHUP reloads the TLS files. */
import { createLogger, LOG_LEVELS, type LogLevel } from '../log/index.js';
import { startGateway, GatewayStartError } from '../process/gateway.js';
import { parseCommandArgs, surplusArguments, type Command } from './command.js';
import { configOrReport } from './load-config.js';

const USAGE = `usage: limen start [--config <file>]

Runs HTTP, DIMSE, the worker and the scheduler in one process until SIGTERM or SIGINT (a graceful
stop); SIGHUP reloads the TLS certificates, keys and CRL. The configuration comes from --config or
LIMEN_CONFIG, with the LIMEN_* environment overrides; without either, the embedded defaults.
`;

export const startCommand: Command = {
  summary: 'run the gateway (HTTP, DIMSE, worker, scheduler) until SIGTERM',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs('start', argv, { config: { type: 'string' } }, USAGE);
    if (typeof parsed === 'number') return parsed;
    const { values, positionals } = parsed;
    if (positionals.length) {
      process.stderr.write(`${surplusArguments('start', positionals)}\n${USAGE}`);
      return 2;
    }
    const config = configOrReport(values.config, 'start');
    if (!config) return 2;
    const level = process.env.LIMEN_LOG_LEVEL || 'info';
    if (!LOG_LEVELS.includes(level as LogLevel)) {
      process.stderr.write(`limen start: LIMEN_LOG_LEVEL is ${JSON.stringify(level)}; it is one of ${LOG_LEVELS.join(', ')}\n`);
      return 2;
    }
    const logger = createLogger({ level: level as LogLevel });
    // Node's own report of a failure nobody handled prints the error object whole, every property
    // and cause included; the log keeps its name, message and code. A rejected promise nobody
    // awaited does not take the gateway down (what was answered is durable, what was not is
    // resent); an exception thrown outside any handler does, as Node would.
    process.on('unhandledRejection', (reason) => {
      logger.error({ id: 'gateway.unhandled-rejection', msg: 'a background task failed and nothing handled it', err: reason instanceof Error ? reason : new Error(typeof reason) });
    });
    process.on('uncaughtException', (err) => {
      logger.error({ id: 'gateway.uncaught-exception', msg: 'Limen stops: an exception escaped every handler', err });
      process.exit(1);
    });
    let gateway;
    try {
      gateway = await startGateway(config, logger);
    } catch (err) {
      const message = err instanceof GatewayStartError ? err.message : (err as Error).message;
      logger.error({ id: 'gateway.start.failed', msg: `Limen could not start: ${message}` });
      return 1;
    }
    // SIGHUP, which would otherwise end the process, reloads the TLS files (a renewed certificate,
    // a new CRL): what certificate deploy hooks and `systemctl reload` send. Failures are logged.
    const reload = () => void gateway.reloadTls().catch(() => undefined);
    process.on('SIGHUP', reload);
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        logger.info({ id: 'gateway.signal', msg: `${signal}: shutting down gracefully`, signal });
        gateway.stop().then(resolve, resolve);
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
    process.off('SIGHUP', reload);
    return 0;
  },
};
