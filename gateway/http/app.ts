/**
 * The HTTP app: probes and metrics, the admin REST API under `/api/v1`, and DICOMweb under
 * `/dicomweb`. A plain hono app, so tests call it in process with `app.request()` and
 * `HttpService` serves it on a socket.
 */
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import { stowRouteDocs, stowRoutes } from '../dicomweb/index.js';
import { qualityOf } from '../dicomweb/accept.js';
import { capabilitiesWadl, WADL } from '../dicomweb/capabilities.js';
import { dicomwebReadRouteDocs } from '../dicomweb/read-routes.js';
import { allowedMethods } from './allowed-methods.js';
import { errorResponse, HttpError, type ErrorStatus } from './errors.js';
import { healthRouteDocs, healthRoutes } from './health.js';
import { HttpLog, logAuthRefusals } from './messages.js';
import type { RouteDoc } from './route-doc.js';
import { studiesRouteDocs, studiesRoutes } from './studies.js';
import { StowAdmission } from '../dicomweb/stow-admission.js';
import { DEFAULT_MAX_CONCURRENT_STOW_REQUESTS, DEFAULT_MAX_INSTANCE_BYTES, DEFAULT_STOW_ADMISSION_WAIT_MS, type AppEnv, type HttpAppDeps } from './types.js';

/** Every route of the app with its documentation. */
export const httpRouteDocs: readonly RouteDoc[] = [...healthRouteDocs, ...studiesRouteDocs, ...stowRouteDocs];

/** Request duration buckets (seconds): a probe takes a millisecond, a STOW batch minutes. */
const REQUEST_DURATION_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 120, 600];

export function createHttpApp(deps: HttpAppDeps): Hono<AppEnv> {
  const logger = deps.logger.child({ service: 'http' });
  const maxInstanceBytes = deps.options?.maxInstanceBytes ?? DEFAULT_MAX_INSTANCE_BYTES;
  const requests = deps.metrics.counter({
    name: 'limen_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
  });
  const duration = deps.metrics.histogram({
    name: 'limen_http_request_duration_seconds',
    help: 'Time from request to response headers, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: REQUEST_DURATION_BUCKETS,
  });

  const app = new Hono<AppEnv>();
  // Always Limen's own id, answered in X-Request-Id: a sender's id is free text, and it would go
  // into the log and the audit trail unvetted (an accession number makes a fine correlation id).
  app.use(requestId({ headerName: '' }));
  app.use(async (c, next) => {
    await next();
    // Set on the response as it finally is: handlers and error responses build their own.
    c.res.headers.set('x-request-id', c.get('requestId'));
    // Data behind a token or a session cookie stays out of shared caches and, once the person
    // signs out, out of the browser's disk cache; what a handler says of itself stands.
    if (!c.res.headers.has('cache-control') && (c.req.path.startsWith('/api/') || c.req.path.startsWith('/dicomweb'))) c.res.headers.set('cache-control', 'private, no-store');
    // A JSON answer quoting a request's text is never read as a page or a script, and no URL
    // (a study's pseudonymous UID in a path) leaves in a Referer.
    c.res.headers.set('x-content-type-options', 'nosniff');
    if (!c.res.headers.has('referrer-policy')) c.res.headers.set('referrer-policy', 'no-referrer');
  });
  app.use(async (c, next) => {
    const start = process.hrtime.bigint();
    await next();
    // The route pattern, never the path: a STOW path holds an original Study Instance UID.
    const pattern = routePath(c, -1);
    const route = pattern === '/*' || pattern === '*' ? 'unmatched' : pattern;
    const method = c.req.method;
    requests.inc({ method, route, status: String(c.res.status) });
    duration.observe(Number(process.hrtime.bigint() - start) / 1e9, { method, route });
  });

  const onAuthRejected = logAuthRefusals(logger);

  app.route('/', healthRoutes({ metrics: deps.metrics, readiness: deps.readiness, logger }));
  app.route('/api/v1', studiesRoutes({ studies: deps.studies, tokens: deps.tokens, onAuthRejected, ...(deps.personAuth && { auth: deps.personAuth }) }));
  app.route(
    '/dicomweb',
    stowRoutes({
      ingest: deps.ingest,
      tokens: deps.tokens,
      logger: deps.logger.child({ service: 'stow' }),
      metrics: deps.metrics,
      routeForToken: deps.routeForToken,
      maxInstanceBytes,
      ...(deps.receiveMemory && { memory: deps.receiveMemory }),
      admission: new StowAdmission(
        deps.options?.maxConcurrentStowRequests ?? DEFAULT_MAX_CONCURRENT_STOW_REQUESTS,
        deps.options?.stowAdmissionWaitMs ?? DEFAULT_STOW_ADMISSION_WAIT_MS,
      ),
      onAuthRejected,
      ...(deps.onStowRequest && { onRequest: deps.onStowRequest }),
    }),
  );

  // Retrieve Capabilities (PS3.18 §8.9): the DICOMweb routes mounted when the request comes
  // (the read side is added after this app is made), described in WADL. Nothing in it is data.
  const capabilities = (c: Context<AppEnv>): Response => {
    const accept = c.req.header('accept');
    if (qualityOf(accept, WADL) === 0 && qualityOf(accept, 'application/xml') === 0) {
      return errorResponse(406, 'not-acceptable', `the capabilities are ${WADL}`);
    }
    const path = new URL(c.req.url).pathname;
    const mounted = [...stowRouteDocs, ...dicomwebReadRouteDocs].filter((doc) => app.routes.some((r) => r.method === doc.method && r.path.replace(/\{[^}]*\}/g, '') === doc.path));
    const wadl = capabilitiesWadl(mounted, '/dicomweb', `${deps.options?.publicOrigin ?? new URL(c.req.url).origin}/dicomweb`, path);
    if (wadl === null) return errorResponse(404, 'not-found', `no resource ${path}`);
    return new Response(wadl, { headers: { 'content-type': WADL, allow: [...allowedMethods(app.routes, path), 'OPTIONS'].join(', ') } });
  };

  // Read when a request comes: routes are added to this app after it is made (gateway/process).
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    if (c.req.method === 'OPTIONS' && (path === '/dicomweb' || path.startsWith('/dicomweb/'))) return capabilities(c);
    // The path as the router matched it (percent-decoded), so that 405 is said only where a route would have served.
    const allowed = allowedMethods(app.routes, c.req.path);
    if (allowed.length > 0) return errorResponse(405, 'method-not-allowed', `${c.req.method} is not allowed here; allowed: ${allowed.join(', ')}`, { allow: allowed.join(', ') });
    return errorResponse(404, 'not-found', `no resource ${c.req.method} ${path}`);
  });

  app.onError((err, c) => {
    if (err instanceof HttpError) return err.getResponse();
    if (err instanceof HTTPException) return errorResponse(err.status as ErrorStatus, 'http-error', err.message);
    const id = c.get('requestId') ?? '-';
    logger.error(HttpLog.requestFailed(id, routePath(c, -1), err));
    return errorResponse(500, 'internal-error', `internal error (request ${id}); see the server log`);
  });

  return app;
}
