/**
 * `/api/v1/studies`: the studies Limen holds, by their de-identified Study Instance UID.
 * Admin only. Resources are named after the DICOM level, as Orthanc's REST API does.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { isDicomUID } from '../../config/index.js';
import { bearerAuth, type BearerAuthOptions } from './auth.js';
import { HttpError } from './errors.js';
import type { RouteDoc } from './route-doc.js';
import type { AppEnv, Role, StudyDirectory, TokenVerifier } from './types.js';

export interface StudiesRoutesDeps {
  studies: StudyDirectory;
  tokens: TokenVerifier;
  onAuthRejected?: BearerAuthOptions['onRejected'];
  /** The check for a role, when a session cookie may stand in for the bearer token (as on the admin API). */
  auth?: (roles: readonly Role[]) => MiddlewareHandler<AppEnv>;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

export const studiesRouteDocs: readonly RouteDoc[] = [
  {
    method: 'GET',
    path: '/api/v1/studies',
    summary:
      'Lists studies (pseudonymous UID, status, series and instance counts, route, received and expiry times). ' +
      `Query: limit (1–${MAX_PAGE_LIMIT}, default ${DEFAULT_PAGE_LIMIT}), offset (≥ 0), status (receiving, complete, processing, awaiting_review, ...).`,
    roles: ['admin'],
    responses: { 200: '{ studies, limit, offset }', 400: 'bad limit, offset or status', 401: 'no valid token', 403: 'not admin' },
  },
  {
    method: 'GET',
    path: '/api/v1/studies/:uid',
    summary: 'One study by its de-identified Study Instance UID.',
    roles: ['admin'],
    responses: { 200: 'the study', 400: 'not a UID', 401: 'no valid token', 403: 'not admin', 404: 'no such study' },
  },
];

/** Routes relative to `/api/v1`. */
export function studiesRoutes(deps: StudiesRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const admin = deps.auth ? deps.auth(['admin']) : bearerAuth({ tokens: deps.tokens, roles: ['admin'], onRejected: deps.onAuthRejected });

  app.get('/studies', admin, async (c) => {
    const limit = intParam(c.req.query('limit'), 'limit', DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT);
    const offset = intParam(c.req.query('offset'), 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const status = statusParam(c.req.query('status'), deps.studies.statuses);
    const studies = await deps.studies.listStudies({ limit, offset, ...(status && { status }) });
    return c.json({ studies, limit, offset, ...(status && { status }) });
  });

  app.get('/studies/:uid', admin, async (c) => {
    const uid = c.req.param('uid');
    if (!isDicomUID(uid)) throw new HttpError(400, 'invalid-uid', 'the path does not hold a valid Study Instance UID');
    const study = await deps.studies.getStudy(uid);
    if (!study) throw new HttpError(404, 'not-found', 'no study with this Study Instance UID');
    return c.json(study);
  });

  return app;
}

/** A study status to filter on; an unknown one is an error, not silently the whole list. */
function statusParam(raw: string | undefined, known: readonly string[]): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!known.includes(raw)) throw new HttpError(400, 'invalid-parameter', `status must be one of ${known.join(', ')}`, { details: { parameter: 'status' } });
  return raw;
}

function intParam(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, 'invalid-parameter', `${name} must be a whole number`, { details: { parameter: name } });
  const n = Number(raw);
  if (n < min || n > max) {
    throw new HttpError(400, 'invalid-parameter', `${name} must be between ${min} and ${max}`, { details: { parameter: name } });
  }
  return n;
}
