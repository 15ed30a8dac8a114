/** `limen start`: HTTP, DIMSE and the schedulers in one process, until SIGTERM or SIGINT; SIGHUP reloads the TLS files. */
import { environmentWarnings } from '../../config/index.js';
import { createLogger, type Logger } from '../log/index.js';
import { tuneOptimisingCompiler } from '../process/compiler.js';
import { startGateway, type RunningGateway } from '../process/gateway.js';
import { STOP_DEADLINE_MS } from '../process/shutdown.js';
import { parseCommandArgs, surplusArguments, type Command } from './command.js';
import { logLevelFromEnv, servableConfigOrReport } from './load-config.js';

const USAGE = `usage: limen start [--config <file>]

Runs HTTP, DIMSE, the worker and the scheduler in one process until SIGTERM or SIGINT: a graceful
stop (nothing new accepted, what is in flight finished for up to ${STOP_DEADLINE_MS / 1000} s, then cut off); a second
signal stops at once. SIGHUP reloads the TLS certificates, keys and CRL. Exit status 0 after a clean
stop, 1 when the start or the stop failed or a second signal cut the stop short, 2 for a usage or
configuration error (nothing was started: the configuration's errors are printed). The configuration
comes from --config or LIMEN_CONFIG, with the LIMEN_* environment overrides; without either, the
embedded defaults.
`;

/** After a second signal, how long the abort may take before the process ends regardless. */
export const ABORT_WAIT_MS = 5_000;
/** After the stop, how long anything a cut-off stop left running (a send under way) may hold the process. */
const EXIT_GRACE_MS = 2_000;

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
    // The routes compiled as the gateway will: a mistyped profile, option or model is a configuration error.
    const config = servableConfigOrReport(values.config, 'start');
    if (!config) return 2;
    const level = logLevelFromEnv();
    if (!level.ok) {
      process.stderr.write(`limen start: ${level.problem}\n`);
      return 2;
    }
    const logger = createLogger({ level: level.level });
    // A misspelt LIMEN_* variable is otherwise ignored without a word.
    for (const w of environmentWarnings(process.env)) logger.warn({ id: 'gateway.config.warning', msg: w.message, code: w.code, path: w.path });
    tuneOptimisingCompiler();
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
    const code = await serveUntilSignalled({ start: () => startGateway(config, logger), logger, signals: process, exitNow: (c) => process.exit(c) });
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
    return code;
  },
};

/** Where the signals come from (the process). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ServeDeps {
  start(): Promise<Pick<RunningGateway, 'stop' | 'abort' | 'reloadTls'>>;
  logger: Logger;
  signals: SignalSource;
  /** Ends the process now: what a second signal asks for. */
  exitNow(code: number): void;
}

/**
 * Starts the gateway and runs it until SIGTERM or SIGINT, with the handlers in place before the
 * start begins: Node's defaults would end the process at once (and ignore SIGTERM as PID 1 in a
 * container). A stop signal during the start stops the gateway once it has started; a second stop
 * signal stops at once; SIGHUP reloads the TLS files, and during the start does nothing (the start
 * reads them as they are). Resolves with the exit status: 0 after a clean stop, else 1.
 */
export async function serveUntilSignalled(deps: ServeDeps): Promise<number> {
  const { logger, signals } = deps;
  let gateway: Awaited<ReturnType<ServeDeps['start']>> | undefined;
  let stopSignal: NodeJS.Signals | undefined;
  let settle!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (settle = resolve));
  const stop = (running: NonNullable<typeof gateway>) => running.stop().then((outcome) => settle(outcome.ok ? 0 : 1), () => settle(1));

  const onStop = (signal: NodeJS.Signals) => {
    if (stopSignal !== undefined) {
      logger.warn({ id: 'gateway.signal.repeated', msg: `${signal} while stopping: stopping at once`, signal });
      // Bounded: when the abort itself hangs (a database that does not answer), the process ends anyway.
      const aborted = gateway ? gateway.abort().then(() => undefined, () => undefined) : Promise.resolve();
      void Promise.race([aborted, new Promise((resolve) => setTimeout(resolve, ABORT_WAIT_MS).unref())]).then(() => {
        settle(1);
        deps.exitNow(1);
      });
      return;
    }
    stopSignal = signal;
    if (!gateway) {
      logger.info({ id: 'gateway.signal', msg: `${signal} during the start: Limen stops as soon as it has started`, signal });
      return;
    }
    logger.info({ id: 'gateway.signal', msg: `${signal}: shutting down gracefully`, signal });
    void stop(gateway);
  };
  // What certificate deploy hooks and `systemctl reload` send; failures are logged by the reload.
  const onHangUp = (signal: NodeJS.Signals) => {
    if (!gateway || stopSignal) {
      logger.info({ id: 'gateway.signal.ignored', msg: `${signal} ${gateway ? 'while stopping' : 'during the start'}: ignored (the TLS files are read as they are now)`, signal });
      return;
    }
    void gateway.reloadTls().catch(() => undefined);
  };
  signals.on('SIGTERM', onStop);
  signals.on('SIGINT', onStop);
  signals.on('SIGHUP', onHangUp);
  try {
    // A second signal during the start ends it all without waiting for the start.
    const start = await Promise.race([deps.start().then((running) => ({ running }), (err: Error) => ({ err })), exited.then((code) => ({ code }))]);
    if ('code' in start) return start.code;
    if ('err' in start) {
      logger.error({ id: 'gateway.start.failed', msg: `Limen could not start: ${start.err?.message}` });
      return 1;
    }
    gateway = start.running;
    if (stopSignal) {
      logger.info({ id: 'gateway.signal', msg: `${stopSignal} during the start: shutting down gracefully`, signal: stopSignal });
      void stop(gateway);
    }
    return await exited;
  } finally {
    signals.off('SIGTERM', onStop);
    signals.off('SIGINT', onStop);
    signals.off('SIGHUP', onHangUp);
  }
}
