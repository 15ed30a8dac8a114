/**
 * The HTTP service's log messages, with stable IDs operators can alert on. Fields are
 * pseudonymous: no request paths (a STOW URL holds an original Study Instance UID), no tokens.
 */
import type { Logger, LogRecord } from '../log/index.js';
import type { AuthRefusal } from './auth.js';

export const HttpLog = {
  listening: (host: string, port: number, scheme: 'http' | 'https'): LogRecord => ({ id: 'http.listening', msg: 'HTTP service listening', host, port, scheme }),
  startFailed: (host: string, port: number, err: Error): LogRecord => ({
    id: 'http.start.failed',
    msg: `HTTP service cannot listen on ${host}:${port}`,
    host,
    port,
    err,
  }),
  stopping: (inFlight: number): LogRecord => ({ id: 'http.stopping', msg: 'HTTP service stopping: no new connections', inFlight }),
  stopForced: (timeoutMs: number): LogRecord => ({
    id: 'http.stop.forced',
    msg: `in-flight requests still open after ${timeoutMs} ms: connections closed`,
    timeoutMs,
  }),
  stopAborted: (inFlight: number): LogRecord => ({ id: 'http.stop.aborted', msg: 'stop cut short with requests in flight: connections closed (what was not answered is sent again)', inFlight }),
  stopped: (): LogRecord => ({ id: 'http.stopped', msg: 'HTTP service stopped' }),
  requestFailed: (requestId: string, route: string, err: unknown): LogRecord => ({
    id: 'http.request.failed',
    msg: 'request failed with an unexpected error',
    requestId,
    route,
    err,
  }),
  authRejected: (requestId: string, route: string, status: 401 | 403, reason: string): LogRecord => ({
    id: 'http.auth.rejected',
    msg: `request refused: ${reason}`,
    requestId,
    route,
    status,
  }),
  readinessFailed: (err: unknown): LogRecord => ({ id: 'http.readiness.failed', msg: 'readiness check threw', err }),
  /** Once when a check starts failing (not at every probe): the detail the probe's answer leaves out. */
  readinessCheckFailed: (check: string, detail: string | undefined): LogRecord => ({ id: 'http.readiness.check-failed', msg: `not ready: ${check} unavailable`, check, detail }),
  readinessCheckRecovered: (check: string): LogRecord => ({ id: 'http.readiness.check-recovered', msg: `${check} available again`, check }),
} as const;

/** Logs each refused token or role (`http.auth.rejected`), never the token: probing shows. */
export function logAuthRefusals(logger: Logger): (refusal: AuthRefusal) => void {
  return (r) => logger.info(HttpLog.authRejected(r.requestId, r.route, r.status, r.reason));
}
