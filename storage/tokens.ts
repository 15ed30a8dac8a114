/**
 * API tokens for machines and scripts. The plaintext is shown once, at creation; only its
 * SHA-256 is stored, so a copy of the database grants nothing. Tokens always expire.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendAuditEvent } from './audit.js';
import type { Database } from './db/index.js';
import { dateOrNull, num } from './db/rows.js';
import { sqlTransaction, withSql } from './db/sql.js';
import { StorageError } from './errors.js';

export const ROLES = ['admin', 'reviewer', 'requester', 'auditor', 'modality'] as const;
export type Role = (typeof ROLES)[number];

/** Every token starts with this, so leaked tokens are easy to recognise and scan for. */
export const TOKEN_PREFIX = 'limen_';

/**
 * The longest a token may live: two years (730 days). A token always expires, and its expiry
 * must be a real date; a bound also keeps a forgotten script's token from outliving its owner.
 */
export const MAX_TOKEN_TTL_SECONDS = 730 * 86_400;

/** `lastUsedAt` is updated at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface CreateTokenOptions {
  role: Role;
  /** A pseudonymous user or system id (never a person's name). */
  user?: string;
  ttlSeconds: number;
  /** Who issues it (`cli`, an admin's id), recorded by the `token.created` event that commits with the token. */
  issuedBy?: string;
}

export interface CreatedToken {
  id: string;
  /** The bearer secret; returned only here. */
  token: string;
  role: Role;
  user: string | null;
  expiresAt: Date;
}

/** Who a valid token belongs to. */
export interface TokenIdentity {
  id: string;
  role: Role;
  user: string | null;
}

/**
 * Who acted with a token, for the audit trail: its user, or the token itself when it was issued
 * to none (a machine's). Never a patient's data.
 */
export function tokenActor(identity: { id: string; user?: string | null }): string {
  return identity.user ?? `token:${identity.id}`;
}

/** A stored token without its secret. */
export interface TokenInfo extends TokenIdentity {
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** Creates, verifies, lists and revokes API tokens. */
export class TokenStore {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  /**
   * Creates a token and returns its plaintext once. The token and its `token.created` audit event
   * commit together: no token exists that the trail does not show being issued.
   */
  async create(options: CreateTokenOptions): Promise<CreatedToken> {
    if (!(ROLES as readonly string[]).includes(options.role)) throw new StorageError('invalid-input', `role must be one of ${ROLES.join(', ')}`, { path: 'role' });
    if (!Number.isFinite(options.ttlSeconds) || options.ttlSeconds <= 0) throw new StorageError('invalid-input', 'ttlSeconds must be a positive number', { path: 'ttlSeconds' });
    if (options.ttlSeconds > MAX_TOKEN_TTL_SECONDS) throw new StorageError('invalid-input', `ttlSeconds is at most ${MAX_TOKEN_TTL_SECONDS} (730 days)`, { path: 'ttlSeconds' });
    if (options.user !== undefined && (options.user.length === 0 || options.user.length > 256)) throw new StorageError('invalid-input', 'user is 1 to 256 characters', { path: 'user' });
    const id = randomBytes(8).toString('hex');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const t = this.now().getTime();
    const expiresAt = t + Math.round(options.ttlSeconds * 1000);
    await sqlTransaction(this.db, async (sql) => {
      await sql.run('INSERT INTO api_tokens (id, token_hash, role, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [id, hashToken(token), options.role, options.user ?? null, t, expiresAt]);
      await appendAuditEvent(sql, new Date(t), { type: 'token.created', actor: options.issuedBy, detail: { tokenId: id, role: options.role, user: options.user ?? null, ttlSeconds: options.ttlSeconds } });
    });
    return { id, token, role: options.role, user: options.user ?? null, expiresAt: new Date(expiresAt) };
  }

  /** The token's identity, or null when it is unknown, expired or revoked. */
  async verify(token: string): Promise<TokenIdentity | null> {
    if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
    const t = this.now().getTime();
    const row = await this.db.knex('api_tokens').where({ token_hash: hashToken(token) }).first('id', 'role', 'user_id', 'expires_at', 'revoked_at', 'last_used_at');
    if (!row || row.revoked_at !== null || num(row.expires_at) <= t) return null;
    // Coarse on purpose: a write per request would cost an fsync per STOW call on SQLite.
    if (row.last_used_at === null || num(row.last_used_at) < t - LAST_USED_RESOLUTION_MS) {
      await this.db.knex('api_tokens').where({ id: row.id }).update({ last_used_at: t });
    }
    return { id: String(row.id), role: row.role as Role, user: (row.user_id as string | null) ?? null };
  }

  /** A token by id, without its secret; null when there is none. */
  async get(id: string): Promise<TokenInfo | null> {
    const row = await this.db.knex('api_tokens').where({ id }).first();
    return row ? tokenInfo(row) : null;
  }

  /**
   * When the token with this id expires, while it holds; null once it is unknown, revoked or
   * expired. One lookup by primary key in plain SQL (no query builder: a browser session asks on
   * every request it makes), for whatever rides on a token after it was verified.
   */
  async activeUntil(id: string): Promise<Date | null> {
    const row = await withSql(this.db, (sql) => sql.first('SELECT expires_at, revoked_at FROM api_tokens WHERE id = ?', [id]));
    if (!row || row.revoked_at !== null || num(row.expires_at) <= this.now().getTime()) return null;
    return new Date(num(row.expires_at));
  }

  /**
   * Revokes a token by id; false when unknown or already revoked. The revocation and its
   * `token.revoked` audit event commit together, as the creation and `token.created` do.
   */
  async revoke(id: string, revokedBy?: string): Promise<boolean> {
    const t = this.now();
    return sqlTransaction(this.db, async (sql) => {
      const changed = await sql.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [t.getTime(), id]);
      if (changed === 0) return false;
      await appendAuditEvent(sql, t, { type: 'token.revoked', actor: revokedBy, detail: { tokenId: id } });
      return true;
    });
  }

  /** All tokens, newest first, without secrets. */
  async list(): Promise<TokenInfo[]> {
    const rows = await this.db.knex('api_tokens').orderBy('created_at', 'desc');
    return rows.map(tokenInfo);
  }
}

function tokenInfo(row: Record<string, unknown>): TokenInfo {
  return {
    id: String(row.id),
    role: row.role as Role,
    user: (row.user_id as string | null) ?? null,
    createdAt: new Date(num(row.created_at)),
    expiresAt: new Date(num(row.expires_at)),
    revokedAt: dateOrNull(row.revoked_at),
    lastUsedAt: dateOrNull(row.last_used_at),
  };
}

/** SHA-256 (hex) of a token: what is stored and looked up. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
