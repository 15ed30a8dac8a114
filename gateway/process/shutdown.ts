/**
 * How the gateway stops: every service is told at once, so every receiver stops accepting before
 * anything drains (each closes its listeners before it first yields); then the work in flight
 * drains in parallel under one deadline, past which what is left is cut off. What was
 * acknowledged is durable and what was not is sent again, so cutting it off loses nothing.
 */
import type { Logger } from '../log/index.js';

/** A service as the stop sees it: `signal` aborts when its in-flight work is to be cut off. */
export interface StoppingService {
  readonly name: string;
  stop(signal?: AbortSignal): Promise<void>;
}

/** What a stop did: `ok` unless a service's stop or the storage's close failed. */
export interface StopOutcome {
  ok: boolean;
  /** What failed to stop (`storage` for the close), with why. */
  failures: Array<{ name: string; message: string }>;
  /** In-flight work was cut off (the deadline passed, or the stop was aborted). */
  cutOff: boolean;
}

/**
 * The whole drain's budget. Under Kubernetes' default 30 s grace period; `docker stop` waits only
 * 10 s unless given `-t`.
 */
export const STOP_DEADLINE_MS = 25_000;
/** How long a service may take to let go once cut off, before it counts as failed to stop. */
export const CUT_OFF_GRACE_MS = 2_000;

export interface StopOptions {
  deadlineMs: number;
  /** Aborting it cuts the drain short (the deadline does it too). */
  cutOff: AbortController;
  logger: Logger;
  /** Closes what the services used (storage), once they stopped. */
  close(): Promise<void>;
}

export async function stopServices(services: readonly StoppingService[], options: StopOptions): Promise<StopOutcome> {
  const { cutOff, logger } = options;
  const draining = new Set(services.map((s) => s.name));
  const deadline = setTimeout(() => {
    if (cutOff.signal.aborted) return;
    logger.warn({ id: 'gateway.stop.deadline', msg: `still draining after ${options.deadlineMs} ms: cutting off what is in flight`, draining: [...draining] });
    cutOff.abort();
  }, options.deadlineMs);
  const failures: StopOutcome['failures'] = [];
  const letGo = letGoOrFail(cutOff.signal);
  await Promise.all(
    services.map(async (s) => {
      try {
        await Promise.race([s.stop(cutOff.signal), letGo]);
      } catch (err) {
        failures.push({ name: s.name, message: (err as Error)?.message ?? String(err) });
        logger.error({ id: 'gateway.stop.failed', msg: `stopping ${s.name} failed`, service: s.name, err });
      } finally {
        draining.delete(s.name);
      }
    }),
  );
  clearTimeout(deadline);
  try {
    // Bounded too: the database's pool waits for connections in use, which a database that stopped answering never returns.
    await Promise.race([options.close(), rejectAfter(CLOSE_TIMEOUT_MS, `did not close within ${CLOSE_TIMEOUT_MS} ms`)]);
  } catch (err) {
    failures.push({ name: 'storage', message: (err as Error)?.message ?? String(err) });
    logger.error({ id: 'gateway.stop.failed', msg: 'closing the storage failed', service: 'storage', err });
  }
  return { ok: failures.length === 0, failures, cutOff: cutOff.signal.aborted };
}

/** How long the storage may take to close once the services have stopped. */
export const CLOSE_TIMEOUT_MS = 5_000;

function rejectAfter(ms: number, message: string): Promise<never> {
  return new Promise<never>((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

/** Rejects `CUT_OFF_GRACE_MS` after `signal` aborts: a service that ignores being cut off fails to stop. */
function letGoOrFail(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    const fail = () => void rejectAfter(CUT_OFF_GRACE_MS, `did not stop within ${CUT_OFF_GRACE_MS} ms of being cut off`).catch(reject);
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
