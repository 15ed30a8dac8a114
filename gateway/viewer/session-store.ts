/**
 * Browser sessions: an opaque random token in an HttpOnly cookie, the identity kept on the
 * server. Any way of proving who someone is (an API token today, an OIDC sign-in later) opens a
 * session the same way, through {@link SessionStore.open} with its `method`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Identity } from '../http/index.js';

/** How the session was opened; recorded for the audit trail. */
export type SessionMethod = 'api-token' | 'oidc';

/** A signed-in person as the server remembers them. */
export interface Session {
  /** SHA-256 of the cookie token (hex): an id that can be logged; the token itself never is. */
  id: string;
  identity: Identity;
  method: SessionMethod;
  createdAt: Date;
  expiresAt: Date;
}

export interface OpenedSession {
  /** The cookie value: 32 random bytes, base64url. Shown once, stored only as its hash. */
  token: string;
  session: Session;
}

/** How a session is opened: by what method, and for how long at most. */
export interface OpenSessionOptions {
  method: SessionMethod;
  /** Shorter than the store's time to live, if wanted (never longer). */
  ttlMs?: number;
  /** The session ends then at the latest: when the credential it was opened with ends. */
  notAfter?: Date;
}

/** Where sessions live. The memory store serves one process; a database store can serve several. */
export interface SessionStore {
  open(identity: Identity, options: OpenSessionOptions): Promise<OpenedSession>;
  /** The live session for a cookie token, or `null` when unknown or expired. */
  resolve(token: string): Promise<Session | null>;
  /** Ends a session; `true` when there was one. */
  close(token: string): Promise<boolean>;
}

/** A working day: a session does not outlive a shift (nor its API token: see {@link TokenBoundSessionStore}). */
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/** Bound on live sessions in memory; the oldest is dropped beyond it. */
export const DEFAULT_MAX_SESSIONS = 10_000;

/**
 * Bound on one credential's live sessions (a person's browsers and tabs): beyond it, that
 * credential's oldest goes. So one token signing in over and over ends only its own sessions,
 * never everyone else's by filling the store.
 */
export const DEFAULT_MAX_SESSIONS_PER_IDENTITY = 16;

/** base64url of 32 bytes: 43 characters. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface MemorySessionStoreOptions {
  ttlMs?: number;
  maxSessions?: number;
  maxSessionsPerIdentity?: number;
  /** Clock, in milliseconds (tests move it). */
  now?: () => number;
}

export const sessionId = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Sessions in this process's memory: lost on restart (people sign in again). */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #maxSessions: number;
  readonly #maxPerIdentity: number;
  readonly #now: () => number;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#maxPerIdentity = options.maxSessionsPerIdentity ?? DEFAULT_MAX_SESSIONS_PER_IDENTITY;
    this.#now = options.now ?? Date.now;
  }

  /** Live sessions (for metrics and tests). */
  get size(): number {
    this.#sweep();
    return this.#sessions.size;
  }

  async open(identity: Identity, options: OpenSessionOptions): Promise<OpenedSession> {
    this.#sweep();
    // Oldest first: a Map iterates in insertion order.
    const own = [...this.#sessions.values()].filter((x) => x.identity.id === identity.id);
    for (const old of own.slice(0, Math.max(0, own.length - this.#maxPerIdentity + 1))) this.#sessions.delete(old.id);
    while (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    const session: Session = {
      id: sessionId(token),
      identity: { ...identity },
      method: options.method,
      createdAt: new Date(now),
      expiresAt: new Date(Math.min(now + Math.min(options.ttlMs ?? this.#ttlMs, this.#ttlMs), options.notAfter?.getTime() ?? Infinity)),
    };
    this.#sessions.set(session.id, session);
    return { token, session };
  }

  async resolve(token: string): Promise<Session | null> {
    if (!TOKEN_SHAPE.test(token)) return null;
    const id = sessionId(token);
    const session = this.#sessions.get(id);
    if (!session) return null;
    if (session.expiresAt.getTime() <= this.#now()) {
      this.#sessions.delete(id);
      return null;
    }
    return session;
  }

  async close(token: string): Promise<boolean> {
    if (!TOKEN_SHAPE.test(token)) return false;
    return this.#sessions.delete(sessionId(token));
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#sessions) if (s.expiresAt.getTime() <= now) this.#sessions.delete(id);
  }
}

/**
 * Tells whether an API token still holds, by its id: when it expires while it does, `null` once
 * it is unknown, revoked or expired. Storage's token store is one.
 */
export interface TokenLifetime {
  activeUntil(tokenId: string): Promise<Date | null>;
}

/**
 * Binds each session opened with an API token to that token, over any store: the session ends
 * when the token expires at the latest, and the moment it is revoked. Sessions opened another
 * way (OIDC) pass through untouched.
 */
export class TokenBoundSessionStore implements SessionStore {
  constructor(
    private readonly inner: SessionStore,
    private readonly tokens: TokenLifetime,
  ) {}

  async open(identity: Identity, options: OpenSessionOptions): Promise<OpenedSession> {
    if (options.method !== 'api-token') return this.inner.open(identity, options);
    // Revoked in the instant since it was verified: the session is born ended.
    const until = (await this.tokens.activeUntil(identity.id)) ?? new Date(0);
    const notAfter = options.notAfter && options.notAfter < until ? options.notAfter : until;
    return this.inner.open(identity, { ...options, notAfter });
  }

  /**
   * The token is looked up on every use, not cached: one read of its row by primary key, no more
   * than a bearer request costs (its token is looked up by hash on every request), and it means a
   * `limen token revoke` run by another process ends the session on its very next request.
   */
  async resolve(token: string): Promise<Session | null> {
    const session = await this.inner.resolve(token);
    if (!session || session.method !== 'api-token') return session;
    if ((await this.tokens.activeUntil(session.identity.id)) === null) {
      await this.inner.close(token);
      return null;
    }
    return session;
  }

  close(token: string): Promise<boolean> {
    return this.inner.close(token);
  }
}
