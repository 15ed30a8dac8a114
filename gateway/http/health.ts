/**
 * Probes and metrics: `/healthz` (the process answers), `/readyz` (its dependencies are
 * ready), `/metrics` (Prometheus text). Unauthenticated: they carry no study data, and the
 * service listens on the configured (by default loopback) address only.
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
    summary: 'Readiness: every dependency (database, storage...) is ready; the body lists each check.',
    responses: { 200: 'ready', 503: 'not ready, or the check itself failed' },
  },
  {
    method: 'GET',
    path: '/metrics',
    summary: 'Metrics in the Prometheus text exposition format 0.0.4.',
    responses: { 200: 'text/plain; version=0.0.4' },
  },
];

export function healthRoutes(deps: HealthRoutesDeps): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    let result: Readiness;
    try {
      result = await deps.readiness();
    } catch (err) {
      // A readiness check that throws means "not ready"; the probe must still answer.
      deps.logger.warn(HttpLog.readinessFailed(err));
      return c.json({ ready: false, checks: {}, error: (err as Error)?.message ?? String(err) }, 503);
    }
    return c.json(result, result.ready ? 200 : 503);
  });

  app.get('/metrics', (c) => c.body(deps.metrics.render(), 200, { 'content-type': EXPOSITION_CONTENT_TYPE }));

  return app;
}
