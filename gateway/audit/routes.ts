/**
 * `GET /api/v1/audit`: the audit trail for the privacy officer, in chain order, a page at a time,
 * optionally one study's events or one type's. What a study went through (received, processed,
 * reviewed by whom, delivered where, read by whom) is answered from here, not from the database.
 * Events hold pseudonymous identifiers only; `limen audit verify` proves the chain whole.
 */
import { Hono } from 'hono';
import { isDicomUID } from '../../config/index.js';
import type { AuditEvent, Storage } from '../../storage/index.js';
import { bearerAuth, HttpError, type AppEnv, type Role, type TokenVerifier } from '../http/index.js';
import type { RouteDoc } from '../http/route-doc.js';

export interface AuditRoutesDeps {
  storage: Pick<Storage, 'audit'>;
  tokens: TokenVerifier;
  auth?: (roles: readonly Role[]) => ReturnType<typeof bearerAuth>;
}

/** Who reads the trail: the privacy officer, and the admin who runs the gateway. */
export const AUDIT_READ_ROLES: readonly Role[] = ['auditor', 'admin'];
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export const auditRouteDocs: readonly RouteDoc[] = [
  {
    method: 'GET',
    path: '/api/v1/audit',
    summary: `Audit events in chain order: ?study=<pseudonymous Study Instance UID>, ?type=<event type>, ?after=<seq> (the page's next), ?limit=1..${MAX_LIMIT} (${DEFAULT_LIMIT}).`,
    roles: [...AUDIT_READ_ROLES],
    responses: { 200: '{ events, next? }', 400: 'a parameter that is not what it says' },
  },
];

export function auditRoutes(deps: AuditRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const auth = (deps.auth ?? ((roles: readonly Role[]) => bearerAuth({ tokens: deps.tokens, roles })))(AUDIT_READ_ROLES);

  app.get('/audit', auth, async (c) => {
    const study = c.req.query('study');
    if (study !== undefined && !isDicomUID(study)) throw new HttpError(400, 'invalid-uid', 'study is a Study Instance UID');
    const type = c.req.query('type');
    if (type !== undefined && !/^[a-z][a-z0-9.-]{0,63}$/.test(type)) throw new HttpError(400, 'invalid-type', 'type is an event type, e.g. instance.stored');
    const after = whole(c.req.query('after'), 'after', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const limit = whole(c.req.query('limit'), 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
    // One more than the page: whether there is a next one.
    const events = await deps.storage.audit.list({ afterSeq: after, limit: limit + 1, ...(study && { studyInstanceUID: study }), ...(type && { type }) });
    const page = events.slice(0, limit);
    return c.json({ events: page.map(eventView), ...(events.length > limit && { next: page[page.length - 1].seq }) });
  });
  return app;
}

function whole(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new HttpError(400, `invalid-${name}`, `${name} is a whole number from ${min} to ${max}`);
  return n;
}

function eventView(e: AuditEvent): Record<string, unknown> {
  return {
    seq: e.seq,
    at: e.at.toISOString(),
    type: e.type,
    actor: e.actor,
    studyInstanceUID: e.studyInstanceUID,
    detail: e.detail,
    hash: e.hash,
    sealed: e.seal !== null,
  };
}
