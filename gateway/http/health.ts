/**
 * Probes and metrics: `/healthz` (the process answers), `/readyz` (its dependencies are
 * ready), `/metrics` (Prometheus text). Unauthenticated: they carry no study data, and the
 * service listens on the configured (by default loopback) address only, which in a container is
 * every interface: so `/readyz` names the check that failed and nothing of why (a database's error
 * names its address or user); the log says why, once each time a check starts failing.
 */
import { Hono } from 'hono';
import type { Logger } from '../log/index.js';
import { EXPOSITION_CONTENT_TYPE, type MetricsRegistry } from '../metrics/index.js';
import { HttpLog } from './messages.js';
import type { RouteDoc } from './route-doc.js';
import type { Readiness } from './types.js';

export interface HealthRoutesDeps {
  metrics: MetricsRegistry;
  readiness(): Promise<Readiness>;
  logger: Logger;
}

export const healthRouteDocs: readonly RouteDoc[] = [
  { method: 'GET', path: '/healthz', summary: 'Liveness: the process is up and serving HTTP.', responses: { 200: '{"status":"ok"}' } },
  {
    method: 'GET',
    path: '/readyz',
    summary: 'Readiness: every dependency (database, storage...) is ready; the body gives each check as "ok" or "unavailable".',
    responses: { 200: 'ready', 503: 'not ready, or the check itself failed' },
  },
  {
    method: 'GET',
    path: '/metrics',
    summary: 'Metrics in the Prometheus text exposition format 0.0.4.',
    responses: { 200: 'text/plain; version=0.0.4' },
  },
];

/** The readiness function itself, when it throws rather than reporting a failed check. */
const THROWN = 'readiness';

export function healthRoutes(deps: HealthRoutesDeps): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  // Checks failing as of the last probe: a change is logged, a probe that finds none is not.
  const failing = new Set<string>();
  const changed = (check: string, ok: boolean): boolean => {
    if (ok) return failing.delete(check);
    if (failing.has(check)) return false;
    failing.add(check);
    return true;
  };

  app.get('/readyz', async (c) => {
    let result: Readiness;
    try {
      result = await deps.readiness();
    } catch (err) {
      // A readiness check that throws means "not ready"; the probe must still answer.
      if (changed(THROWN, false)) deps.logger.warn(HttpLog.readinessFailed(err));
      return c.json({ ready: false, checks: {} }, 503);
    }
    if (changed(THROWN, true)) deps.logger.info(HttpLog.readinessCheckRecovered(THROWN));
    const checks: Record<string, 'ok' | 'unavailable'> = {};
    for (const [name, check] of Object.entries(result.checks)) {
      checks[name] = check.ok ? 'ok' : 'unavailable';
      if (!changed(name, check.ok)) continue;
      if (check.ok) deps.logger.info(HttpLog.readinessCheckRecovered(name));
      else deps.logger.warn(HttpLog.readinessCheckFailed(name, check.message));
    }
    return c.json({ ready: result.ready, checks }, result.ready ? 200 : 503);
  });

  app.get('/metrics', (c) => c.body(deps.metrics.render(), 200, { 'content-type': EXPOSITION_CONTENT_TYPE }));

  return app;
}
