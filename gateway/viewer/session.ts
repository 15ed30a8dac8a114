/**
 * `/api/v1/session`: a person exchanges a bearer API token once for an HttpOnly, SameSite=Strict
 * session cookie, so the viewer's own requests (DICOMweb, the review API) are authenticated
 * without script ever holding a token. {@link sessionOrBearerAuth} then accepts either the cookie
 * or the bearer header. An OIDC sign-in will open a session through {@link startSession} too.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { actorOf, bearerAuth, HttpError, remoteAddressOf, type AppEnv, type AuthRefusal, type Identity, type Role, type RouteDoc, type TokenVerifier } from '../http/index.js';
import type { Session, SessionMethod, SessionStore } from './session-store.js';

/** The cookie's name. (`__Host-` would demand Secure, which loopback HTTP cannot give.) */
export const SESSION_COOKIE = 'limen_session';

/** Roles of people, who may hold a browser session; machines (`modality`) may not. */
export const PERSON_ROLES: readonly Role[] = ['reviewer', 'admin', 'requester', 'auditor'];

export interface SessionCookieOptions {
  /** `Secure` attribute: `auto` (the default) sets it when the request came over HTTPS. */
  secure?: boolean | 'auto';
  /** The origin clients reach Limen at behind a proxy (`http.publicUrl`): its host is this origin too. */
  publicOrigin?: string;
}

export interface SessionRoutesDeps extends SessionCookieOptions {
  tokens: TokenVerifier;
  sessions: SessionStore;
  /** Roles that may open a session; {@link PERSON_ROLES} by default. */
  roles?: readonly Role[];
  onAuthRejected?: (refusal: AuthRefusal) => void;
  /** Told of each opened and closed session (for the audit trail); the answer waits for it. */
  onSessionEvent?: (event: SessionEvent) => void | Promise<void>;
}

export interface SessionEvent {
  type: 'session.opened' | 'session.closed';
  /** The session's id (hash of the cookie token). */
  sessionId: string;
  method: SessionMethod;
  role: Role;
  user?: string;
  /** The API token's id when opened with one. */
  tokenId: string;
  /** The browser's address, when served over a socket (User Authentication names the node signing in). */
  remoteAddress?: string;
}

/** What `GET /api/v1/session` answers: who the session is for, never the token. */
export interface SessionView {
  role: Role;
  user?: string;
  /**
   * Who the server records this session as (`openedBy`, `decidedBy`, the audit trail): its user, or
   * `token:<id>` for a token issued to nobody, which the viewer could not tell from `user` alone.
   */
  actor: string;
  method: SessionMethod;
  expiresAt: string;
}

export const sessionRouteDocs: readonly RouteDoc[] = [
  {
    method: 'POST',
    path: '/api/v1/session',
    summary:
      'Exchanges the bearer API token of a person (reviewer, admin, requester, auditor) for a session cookie ' +
      `(${SESSION_COOKIE}: HttpOnly, SameSite=Strict, Path=/; Secure over HTTPS). Body: none.`,
    roles: PERSON_ROLES,
    responses: { 201: '{ session: { role, user, actor, method, expiresAt } } and Set-Cookie', 401: 'no valid token', 403: 'a machine role' },
  },
  {
    method: 'GET',
    path: '/api/v1/session',
    summary: 'The session the cookie belongs to.',
    responses: { 200: '{ session }', 401: 'no live session' },
  },
  {
    method: 'DELETE',
    path: '/api/v1/session',
    summary: 'Signs out: ends the session and clears the cookie.',
    responses: { 204: 'signed out (also when there was no session)', 403: 'cross-site request' },
  },
];

/** Opens a session for an already authenticated person and sets its cookie on the response. */
export async function startSession(
  c: Context,
  sessions: SessionStore,
  identity: Identity,
  method: SessionMethod,
  options: SessionCookieOptions = {},
): Promise<Session> {
  const { token, session } = await sessions.open(identity, { method });
  setCookie(c, SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isSecure(c, options.secure),
    // A session cookie: closing the browser ends it (a shared reading-room workstation); the
    // server ends it at the latest at `expiresAt`.
  });
  return session;
}

export const sessionView = (s: Session): SessionView => ({
  role: s.identity.role,
  ...(s.identity.user ? { user: s.identity.user } : {}),
  actor: actorOf(s.identity),
  method: s.method,
  expiresAt: s.expiresAt.toISOString(),
});

/** Routes relative to `/api/v1`. */
export function sessionRoutes(deps: SessionRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const roles = deps.roles ?? PERSON_ROLES;
  const bearer = bearerAuth({ tokens: deps.tokens, roles, onRejected: deps.onAuthRejected });

  app.post('/session', bearer, async (c) => {
    const identity = c.get('identity');
    const session = await startSession(c, deps.sessions, identity, 'api-token', deps);
    await deps.onSessionEvent?.({ type: 'session.opened', sessionId: session.id, method: session.method, role: identity.role, user: identity.user, tokenId: identity.id, remoteAddress: remoteAddressOf(c) });
    c.header('cache-control', 'no-store');
    return c.json({ session: sessionView(session) }, 201);
  });

  app.get('/session', async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    const session = token ? await deps.sessions.resolve(token) : null;
    c.header('cache-control', 'no-store');
    if (!session) throw new HttpError(401, 'no-session', 'no live session: sign in again', { headers: { 'www-authenticate': 'Bearer realm="limen"' } });
    return c.json({ session: sessionView(session) });
  });

  app.delete('/session', async (c) => {
    refuseCrossSite(c, deps);
    const token = getCookie(c, SESSION_COOKIE);
    const session = token ? await deps.sessions.resolve(token) : null;
    if (token) await deps.sessions.close(token);
    deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: isSecure(c, deps.secure) });
    if (session) {
      await deps.onSessionEvent?.({ type: 'session.closed', sessionId: session.id, method: session.method, role: session.identity.role, user: session.identity.user, tokenId: session.identity.id, remoteAddress: remoteAddressOf(c) });
    }
    return c.body(null, 204);
  });

  return app;
}

export interface SessionOrBearerAuthOptions {
  tokens: TokenVerifier;
  sessions: SessionStore;
  /** Roles let through; another role gets 403. */
  roles: readonly Role[];
  onRejected?: (refusal: AuthRefusal) => void;
  /** The origin clients reach Limen at behind a proxy (`http.publicUrl`): its host is this origin too. */
  publicOrigin?: string;
}

/**
 * Authenticates with the `Authorization: Bearer` header when there is one (exactly as
 * `bearerAuth`), otherwise with the session cookie. A cookie-authenticated request must
 * come from the same origin (`Sec-Fetch-Site`, else `Origin`), on top of SameSite=Strict.
 */
export function sessionOrBearerAuth(options: SessionOrBearerAuthOptions) {
  const bearer = bearerAuth({ tokens: options.tokens, roles: options.roles, onRejected: options.onRejected });
  return createMiddleware<AppEnv>(async (c, next) => {
    const token = getCookie(c, SESSION_COOKIE);
    if (c.req.header('authorization') !== undefined || token === undefined) {
      if (token === undefined && c.req.header('authorization') === undefined) {
        refuse(c, options, 401, 'unauthenticated', 'a session cookie or an Authorization: Bearer token is required');
      }
      return bearer(c, next);
    }
    const session = await options.sessions.resolve(token);
    if (!session) refuse(c, options, 401, 'session-expired', 'the session is unknown or expired: sign in again', 'invalid_token');
    const identity = session!.identity;
    if (!options.roles.includes(identity.role)) {
      refuse(c, options, 403, 'forbidden', `role "${identity.role}" may not do this; allowed: ${options.roles.join(', ')}`, 'insufficient_scope');
    }
    refuseCrossSite(c, options);
    c.set('identity', identity);
    await next();
  });
}

function refuse(
  c: Context<AppEnv>,
  options: Pick<SessionOrBearerAuthOptions, 'onRejected'>,
  status: 401 | 403,
  code: string,
  message: string,
  error?: string,
): never {
  options.onRejected?.({ status, reason: message, route: c.req.routePath, requestId: c.get('requestId') ?? '-' });
  const headers: Record<string, string> = status === 401 || error ? { 'www-authenticate': `Bearer realm="limen"${error ? `, error="${error}"` : ''}` } : {};
  throw new HttpError(status, code, message, { headers });
}

/**
 * 403 unless the request comes from this origin, when the browser says where from. Any method:
 * a GET has effects too (opening a review puts it in review, a read is audited), and a page of
 * another port of the same host is same-site, so SameSite=Strict sends it the cookie. Only the
 * viewer's own pages call the API with the cookie. Without Sec-Fetch-Site (older browsers), the
 * Origin header is checked, which a browser sends with the methods that change state.
 */
function refuseCrossSite(c: Context<AppEnv>, options: Pick<SessionOrBearerAuthOptions, 'onRejected' | 'publicOrigin'> = {}): void {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined) {
    if (site !== 'same-origin' && site !== 'none') {
      refuse(c, options, 403, 'cross-site', `a ${c.req.method} with the session cookie must come from this origin (Sec-Fetch-Site: ${site})`);
    }
    return;
  }
  // Older browsers: the request's own host (not its origin, whose scheme a TLS-terminating proxy
  // changes), or the public origin whole, scheme and port included (a proxy may call Limen by
  // another name).
  const origin = c.req.header('origin');
  if (origin === undefined) return;
  let from: URL | null;
  try {
    from = new URL(origin);
  } catch {
    from = null;
  }
  const ownHost = c.req.header('host') ?? new URL(c.req.url).host;
  const allowed = from !== null && (from.host === ownHost || (options.publicOrigin !== undefined && from.origin === new URL(options.publicOrigin).origin));
  if (!allowed) refuse(c, options, 403, 'cross-site', `a ${c.req.method} with the session cookie must come from this origin`);
}

function isSecure(c: Context, secure: boolean | 'auto' | undefined): boolean {
  if (secure === true || secure === false) return secure;
  return new URL(c.req.url).protocol === 'https:';
}
