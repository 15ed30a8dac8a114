/**
 * The audit trail: append-only and hash-chained. Each event stores the SHA-256 of the
 * previous event and its own SHA-256 over a canonical JSON of (seq, at, type, actor, study,
 * detail, prevHash), so an edited, inserted or removed event breaks the chain where it
 * happened. Each event is also sealed: an HMAC-SHA-256 of its hash under the audit key (derived
 * from the master key), so that someone who can write the table but has no key cannot append a
 * forged event, or rewrite the chain from some point, with hashes that check. Appends are
 * serialized (a table lock on PostgreSQL, the single connection on SQLite) and `seq` is unique,
 * so concurrent appends cannot fork the chain. Events carry pseudonymous IDs only.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJSON } from './canonical-json.js';
import type { Database } from './db/index.js';
import { sqlTransaction, type Sql } from './db/sql.js';
import { json, num } from './db/rows.js';
import { StorageError } from './errors.js';
import { isUID } from './uid.js';

/** prevHash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEventInput {
  /** e.g. `association.accepted`, `instance.stored`, `study.complete`. */
  type: string;
  /** A pseudonymous actor: calling AE title, token id, service name. */
  actor?: string;
  studyInstanceUID?: string;
  /** PHI-free JSON details. */
  detail?: Record<string, unknown>;
}

export interface AuditEvent {
  id: number;
  seq: number;
  at: Date;
  type: string;
  actor: string | null;
  studyInstanceUID: string | null;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** HMAC of `hash` under the audit key; null for an event written before events were sealed. */
  seal: string | null;
}

export type AuditVerifyResult =
  /** `unsealed`: how many of the first events were written before events were sealed. */
  | { ok: true; count: number; headHash: string; unsealed: number }
  | { ok: false; brokenAtSeq: number; reason: string };

export interface AuditListOptions {
  /** Only events with id greater than this (paging). */
  afterId?: number;
  /** Only events with seq greater than this (paging in chain order). */
  afterSeq?: number;
  limit?: number;
  type?: string;
  studyInstanceUID?: string;
}

const VERIFY_BATCH = 1000;

/** The hash-chained audit log over `audit_events`. */
export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  /** Appends one event at the head of the chain; resolves once it is durable. */
  async append(input: AuditEventInput): Promise<AuditEvent> {
    return sqlTransaction(this.db, (sql) => appendAuditEvent(sql, this.now(), input));
  }

  /** Events in chain order. */
  async list(options: AuditListOptions = {}): Promise<AuditEvent[]> {
    const q = this.db.knex('audit_events').orderBy('seq').limit(Math.min(options.limit ?? 100, 10_000));
    if (options.afterId !== undefined) q.where('id', '>', options.afterId);
    if (options.afterSeq !== undefined) q.where('seq', '>', options.afterSeq);
    if (options.type !== undefined) q.where('type', options.type);
    if (options.studyInstanceUID !== undefined) q.where('study_instance_uid', options.studyInstanceUID);
    return (await q).map(toEvent);
  }

  /** The head of the chain (anchor it outside the database to detect truncation), or null when empty. */
  async head(): Promise<{ seq: number; hash: string } | null> {
    const last = await this.db.knex('audit_events').orderBy('seq', 'desc').first('seq', 'hash');
    return last ? { seq: num(last.seq), hash: String(last.hash) } : null;
  }

  /**
   * Walks the whole chain. Detects edited events (hash mismatch), removed or inserted events
   * (link or sequence break). Removing only the newest events is detectable only against an
   * anchored `head()`.
   */
  async verify(): Promise<AuditVerifyResult> {
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    let count = 0;
    let unsealed = 0;
    const key = this.db.auditKey;
    for (;;) {
      const rows = await this.db.knex('audit_events').where('seq', '>=', expectedSeq).orderBy('seq').limit(VERIFY_BATCH);
      if (rows.length === 0) break;
      for (const row of rows) {
        const event = toEvent(row);
        if (event.prevHash !== prevHash) return { ok: false, brokenAtSeq: event.seq, reason: `event seq ${event.seq} does not link to the event before it (an event was removed, inserted or altered)` };
        if (event.seq !== expectedSeq) return { ok: false, brokenAtSeq: event.seq, reason: `expected seq ${expectedSeq}, found ${event.seq}: the events between were removed` };
        const recomputed = eventHash({ ...event, at: event.at.getTime() });
        if (recomputed !== event.hash) return { ok: false, brokenAtSeq: event.seq, reason: `event seq ${event.seq} was altered (its hash does not match its content)` };
        if (event.seal === null) {
          // Only the events written before sealing began, all of them first, go without a seal.
          if (unsealed !== count) return { ok: false, brokenAtSeq: event.seq, reason: `event seq ${event.seq} has no seal, though events before it are sealed: it was written without Limen's audit key` };
          unsealed += 1;
        } else if (key && !sealMatches(key, event)) {
          return { ok: false, brokenAtSeq: event.seq, reason: `event seq ${event.seq} has a seal that Limen's audit key did not make: it was written or rewritten without the key` };
        }
        prevHash = event.hash;
        expectedSeq += 1;
        count += 1;
      }
    }
    // The walk read seq 1 onwards; a row below it (written past the database's own refusal) is
    // outside the chain, and would be listed first.
    const outside = await this.db.knex('audit_events').where('seq', '<', 1).orderBy('seq').first();
    if (outside) {
      const event = toEvent(outside);
      return { ok: false, brokenAtSeq: event.seq, reason: `event seq ${event.seq} (${event.type}) lies outside the chain, which runs from seq 1: it was inserted` };
    }
    if (count === 0 && (await this.holdsAuditedRows())) {
      return { ok: false, brokenAtSeq: 1, reason: 'the chain is empty, yet the database holds studies or API tokens, whose every creation was audited: the events were removed' };
    }
    return { ok: true, count, headHash: prevHash, unsealed };
  }

  private async holdsAuditedRows(): Promise<boolean> {
    for (const table of ['studies', 'api_tokens']) {
      if (await this.db.knex(table).first(this.db.knex.raw('1 AS one'))) return true;
    }
    return false;
  }
}

/** Checks an event before anything is written. */
function validateEvent(input: AuditEventInput): void {
  if (!input.type || input.type.length > 64) throw new StorageError('invalid-input', 'an audit event type is 1 to 64 characters', { path: 'type' });
  if (input.actor !== undefined && input.actor.length > 256) throw new StorageError('invalid-input', 'an audit actor is at most 256 characters', { path: 'actor' });
  if (input.studyInstanceUID !== undefined && !isUID(input.studyInstanceUID)) throw new StorageError('invalid-input', 'studyInstanceUID is not a UID', { path: 'studyInstanceUID' });
}

/**
 * Appends one event at the head of the chain inside a transaction, so it commits together with
 * whatever else the transaction writes (an instance and its `instance.stored` event); an invalid
 * event throws, taking the transaction back.
 */
export async function appendAuditEvent(sql: Sql, now: Date, input: AuditEventInput): Promise<AuditEvent> {
  validateEvent(input);
  const detailText = canonicalJSON(input.detail ?? {});
  if (sql.dialect === 'postgres') await sql.run('LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE');
  const last = await sql.first('SELECT seq, at, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  const fields = {
    seq: last ? num(last.seq) + 1 : 1,
    // Never before the event ahead of it: the time is read before the lock is waited for, and a
    // trail whose times go back reads as reordered.
    at: Math.max(now.getTime(), last ? num(last.at) : 0),
    type: input.type,
    actor: input.actor ?? null,
    studyInstanceUID: input.studyInstanceUID ?? null,
    detail: JSON.parse(detailText) as Record<string, unknown>,
    prevHash: last ? String(last.hash) : GENESIS_HASH,
  };
  const hash = eventHash(fields);
  const seal = sql.auditKey ? auditSeal(sql.auditKey, hash) : null;
  const row = await sql.first('INSERT INTO audit_events (seq, at, type, actor, study_instance_uid, detail, prev_hash, hash, seal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id', [
    fields.seq,
    fields.at,
    fields.type,
    fields.actor,
    fields.studyInstanceUID,
    detailText,
    fields.prevHash,
    hash,
    seal,
  ]);
  return { id: num(row?.id), ...fields, at: new Date(fields.at), hash, seal };
}

/** An event's seal: HMAC-SHA-256 (hex) of its hash under the audit key. */
export function auditSeal(key: Uint8Array, hash: string): string {
  return createHmac('sha256', key).update(hash, 'utf8').digest('hex');
}

function sealMatches(key: Uint8Array, event: AuditEvent): boolean {
  const expected = Buffer.from(auditSeal(key, event.hash), 'utf8');
  const actual = Buffer.from(event.seal ?? '', 'utf8');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

interface HashedFields {
  seq: number;
  at: number;
  type: string;
  actor: string | null;
  studyInstanceUID: string | null;
  detail: Record<string, unknown>;
  prevHash: string;
}

/** SHA-256 (hex) of an event's canonical JSON. */
export function eventHash(fields: HashedFields): string {
  const { seq, at, type, actor, studyInstanceUID, detail, prevHash } = fields;
  return createHash('sha256').update(canonicalJSON({ seq, at, type, actor, studyInstanceUID, detail, prevHash }), 'utf8').digest('hex');
}

function toEvent(row: Record<string, unknown>): AuditEvent {
  return {
    id: num(row.id),
    seq: num(row.seq),
    at: new Date(num(row.at)),
    type: String(row.type),
    actor: (row.actor as string | null) ?? null,
    studyInstanceUID: (row.study_instance_uid as string | null) ?? null,
    detail: json(row.detail) as Record<string, unknown>,
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
    seal: (row.seal as string | null) ?? null,
  };
}
