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

/** Where sessions live. The memory store serves one process; a database store can serve several. */
export interface SessionStore {
  open(identity: Identity, options: { method: SessionMethod; ttlMs?: number }): Promise<OpenedSession>;
  /** The live session for a cookie token, or `null` when unknown or expired. */
  resolve(token: string): Promise<Session | null>;
  /** Ends a session; `true` when there was one. */
  close(token: string): Promise<boolean>;
}

/** A working day: a session outlives neither a shift nor, for long, a revoked API token. */
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/** Bound on live sessions in memory; the oldest is dropped beyond it. */
export const DEFAULT_MAX_SESSIONS = 10_000;

/** base64url of 32 bytes: 43 characters. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface MemorySessionStoreOptions {
  ttlMs?: number;
  maxSessions?: number;
  /** Clock, in milliseconds (tests move it). */
  now?: () => number;
}

export const sessionId = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Sessions in this process's memory: lost on restart (people sign in again). */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #maxSessions: number;
  readonly #now: () => number;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#now = options.now ?? Date.now;
  }

  /** Live sessions (for metrics and tests). */
  get size(): number {
    this.#sweep();
    return this.#sessions.size;
  }

  async open(identity: Identity, options: { method: SessionMethod; ttlMs?: number }): Promise<OpenedSession> {
    this.#sweep();
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
      expiresAt: new Date(now + Math.min(options.ttlMs ?? this.#ttlMs, this.#ttlMs)),
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
