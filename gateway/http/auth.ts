/**
 * Bearer-token authentication (RFC 6750) as a middleware factory over an options type, in the
 * manner of hono's request-id middleware. The verified identity is put in the context as
 * `identity` for the handlers.
 */
import { createMiddleware } from 'hono/factory';
import { tokenActor } from '../../storage/index.js';
import { HttpError } from './errors.js';
import type { AppEnv, Role, TokenVerifier } from './types.js';

export interface BearerAuthOptions {
  tokens: TokenVerifier;
  /** Roles let through; an authenticated caller with another role gets 403. */
  roles: readonly Role[];
  /** The `realm` of the challenge; `limen` by default. */
  realm?: string;
  /** Told of every refusal (for the log); never given the token. */
  onRejected?: (refusal: AuthRefusal) => void;
}

export interface AuthRefusal {
  status: 401 | 403;
  reason: string;
  /** The route pattern (never the path, which may hold an original UID). */
  route: string;
  requestId: string;
}

/** RFC 6750 §2.1 token68 syntax. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Requires `Authorization: Bearer <token>`: missing, malformed, unknown or expired → 401 with a
 * `WWW-Authenticate: Bearer` challenge; a role not in `roles` → 403.
 */
export function bearerAuth(options: BearerAuthOptions) {
  const realm = options.realm ?? 'limen';
  return createMiddleware<AppEnv>(async (c, next) => {
    const refuse = (status: 401 | 403, code: string, message: string, error?: string): never => {
      options.onRejected?.({ status, reason: message, route: c.req.routePath, requestId: c.get('requestId') ?? '-' });
      const challenge = `Bearer realm="${realm}"` + (error ? `, error="${error}"` : '');
      throw new HttpError(status, code, message, { headers: { 'www-authenticate': challenge } });
    };
    const header = c.req.header('authorization');
    if (!header) return refuse(401, 'unauthenticated', 'an Authorization: Bearer token is required');
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match || !TOKEN68.test(match[1])) {
      return refuse(401, 'invalid-token', 'the Authorization header is not "Bearer <token>"', 'invalid_token');
    }
    const identity = await options.tokens.verifyToken(match[1]);
    if (!identity) return refuse(401, 'invalid-token', 'the token is unknown, revoked or expired', 'invalid_token');
    if (!options.roles.includes(identity.role)) {
      return refuse(
        403,
        'forbidden',
        `role "${identity.role}" may not do this; allowed: ${options.roles.join(', ')}`,
        'insufficient_scope',
      );
    }
    c.set('identity', identity);
    await next();
  });
}

/** Who did it, for the audit trail and decisions. */
export const actorOf = tokenActor;
