/**
 * Storing an instance: the edge's one durable operation. The order makes a crash at any
 * point harmless:
 *   1. ensure the study row and its key (a transaction);
 *   2. write the encrypted blob under its final name (temp file, rename);
 *   3. at the same time: flush the blob (fdatasync and directory fsync), and commit the series,
 *      instance and vault rows, the study's counts, (when asked) the audit event and an
 *      `unconfirmed_instances` row, in one transaction, flushed;
 *   4. resolve once both are on disk. A later commit removes the unconfirmed row.
 * A crash after 2 and before 3 commits leaves an orphan blob no row points to: never visible as an
 * instance, removed by `sweepOrphanBlobs`. A process crash leaves the written blob whole (its
 * bytes were in the page cache before the rows committed). A power loss may leave committed rows
 * whose blob never reached the disk; their unconfirmed rows name them, and `repairUnconfirmed`
 * (at start, before anything is served) checks each blob and takes back the instances whose blob
 * does not read back whole. None of them had been acknowledged. Resending an instance stores
 * nothing new.
 */
import type { Knex } from 'knex';
import { appendAuditEvent, type AuditEventInput } from './audit.js';
import type { BlobStore } from './blobs.js';
import type { Database } from './db/index.js';
import { sqlTransaction, withSql, type Row, type Sql } from './db/sql.js';
import { committedIsDurable, writeTransaction } from './db/transaction.js';
import { isUniqueViolation, jsonObject, num } from './db/rows.js';
import { StorageError } from './errors.js';
import { PROCESS_JOB, type StudyStatus } from './studies.js';
import type { StudyKey, StudyKeys } from './keys.js';
import { isUID } from './uid.js';
import { sealRecord } from './vault.js';

const DAY_MS = 86_400_000;

/** A de-identified instance and what it takes to store it. All UIDs are the pseudonymous ones. */
export interface StoreInstanceInput {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  sopClassUID: string;
  transferSyntaxUID: string;
  /** The de-identified Part 10 file. */
  bytes: Uint8Array;
  /**
   * The linkage record (original identity and UIDs), sealed into the vault; never stored in clear.
   * Absent for instances Limen derived itself (a SEG): they link to nobody but through their source.
   */
  linkage?: unknown;
  /** Route name. */
  route: string;
  /** The route's stable time, kept on the study for completion. */
  stableSeconds: number;
  /** The route's retention; the study expires this long after its first instance. */
  retentionDays: number;
  modality?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  /** De-identified study-level attributes for queries; the first value of each key is kept. */
  attributes?: Record<string, unknown>;
  /** De-identified series-level attributes (SeriesDescription...). */
  seriesAttributes?: Record<string, unknown>;
  /** De-identified instance-level attributes (Rows, Columns, NumberOfFrames...). */
  instanceAttributes?: Record<string, unknown>;
  /** Default: now. */
  receivedAt?: Date;
  /**
   * The audit event of this store, made from its outcome. For a new instance it is appended in
   * the instance's own transaction, so rows and event become durable in one commit (one WAL
   * flush instead of two); for a resent instance it is appended on its own. Either way
   * `storeInstance` resolves once the event is durable too.
   */
  audit?: (result: StoreInstanceResult) => AuditEventInput;
}

/** Statuses a late instance takes back to `receiving`, besides a `complete` study whose job has not started. */
const REOPENED_UNDECIDED: readonly StudyStatus[] = ['failed', 'awaiting_review', 'rejected'];

export interface StoreInstanceResult {
  /** True when the instance was already stored; nothing new was written or counted. */
  duplicate: boolean;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  /** True when this instance was the study's first. */
  newStudy: boolean;
  newSeries: boolean;
  /** True when the study had completed and this late instance reopened it. */
  reopened: boolean;
  /** The status it was reopened from. */
  reopenedFrom?: StudyStatus;
  studyStatus: StudyStatus;
}

/** What `repairUnconfirmed` did: instances kept, taken back, and left for later (perhaps in flight elsewhere). */
export interface RepairReport {
  kept: number;
  discarded: number;
  deferred: number;
}

/** Metadata of a stored instance. */
export interface InstanceInfo {
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  sopClassUID: string;
  transferSyntaxUID: string;
  instanceNumber: number | null;
  sizeBytes: number;
  receivedAt: Date;
  attributes: Record<string, unknown>;
}

/** A stored instance with its decrypted, authenticated bytes. */
export interface InstanceBlob extends InstanceInfo {
  bytes: Buffer;
}

/** Stores and reads instances. */
export class Instances {
  constructor(
    private readonly db: Database,
    private readonly keys: StudyKeys,
    private readonly blobs: BlobStore,
    private readonly now: () => Date,
  ) {}

  /** Stored instances whose blobs were flushed, whose unconfirmed rows the next commit removes. */
  private confirmed: string[] = [];

  /** Stores in flight in this process, by SOP Instance UID. */
  private readonly storing = new Map<string, Promise<unknown>>();

  /** Stores one instance durably and atomically; idempotent per SOP Instance UID. */
  async store(input: StoreInstanceInput): Promise<StoreInstanceResult> {
    validate(input);
    const sop = input.sopInstanceUID;
    // A resend that arrives while its first copy is being stored waits for that store's outcome:
    // the first copy's rows commit while its blob is flushed, and a failed flush takes them back.
    for (let earlier = this.storing.get(sop); earlier; earlier = this.storing.get(sop)) await earlier.catch(() => undefined);
    const storing = this.storeRetrying(input);
    this.storing.set(sop, storing);
    try {
      return await storing;
    } finally {
      if (this.storing.get(sop) === storing) this.storing.delete(sop);
    }
  }

  private async storeRetrying(input: StoreInstanceInput): Promise<StoreInstanceResult> {
    try {
      return await this.storeOnce(input);
    } catch (err) {
      // The orphan sweep removed the (empty) study row between steps 1 and 3: start over once.
      if (err instanceof StorageError && err.code === 'not-found') return this.storeOnce(input);
      throw err;
    }
  }

  private async storeOnce(input: StoreInstanceInput): Promise<StoreInstanceResult> {
    const study = input.studyInstanceUID;
    const receivedAt = (input.receivedAt ?? this.now()).getTime();

    // One trip to the connection for both: is it a resend, and the study's key when there is one.
    const found = await withSql(this.db, async (sql) => {
      const known = await sql.first('SELECT study_instance_uid, series_instance_uid FROM instances WHERE sop_instance_uid = ?', [input.sopInstanceUID]);
      return known ? { known } : { key: await this.keys.load(sql, study).catch(unlessNotFound) };
    });
    if (found.known) {
      // Stored, but not by a store of this process that has ended: its blob may not be on disk yet.
      const settled = await this.settleUnconfirmed(input.sopInstanceUID, { mayDiscard: true });
      if (settled === 'discarded') return this.storeOnce(input);
      // A blob deleted or broken behind Limen's back can never be served: the resend, the
      // sender's own way to recover, stores the instance anew instead of being answered from it.
      if (settled === 'confirmed' && (await this.blobState(input.sopInstanceUID)) === 'broken') {
        await this.discard(input.sopInstanceUID, 'blob-lost');
        return this.storeOnce(input);
      }
      return this.resent(await this.duplicate(input, found.known), input);
    }

    const key = found.key ?? (await this.createStudy(input));
    const blob = await this.blobs.writeUnflushed(key.blobKey, study, input.sopInstanceUID, input.bytes);
    // The rows commit while the blob is flushed: one flush's wait instead of two in a row.
    const confirming = this.confirmed.splice(0, CONFIRM_BATCH);
    const [committed, flushed] = await Promise.allSettled([sqlTransaction(this.db, (sql) => this.commit(sql, input, key, blob.relPath, receivedAt, confirming)), blob.flushed]);
    if (committed.status === 'rejected') {
      this.confirmed.push(...confirming);
      return this.notCommitted(committed.reason, input, blob.relPath);
    }
    if (flushed.status === 'rejected') {
      // Committed, but the blob may never reach the disk: take the instance back (it was never
      // answered). Should that fail too, its unconfirmed row leaves it to the repair at start.
      await this.discard(input.sopInstanceUID, 'blob-flush-failed').catch(() => undefined);
      throw flushed.reason;
    }
    this.confirmed.push(input.sopInstanceUID);
    return committed.value;
  }

  /** A store whose commit failed: the resend a concurrent store made of it, or the failure. */
  private async notCommitted(err: unknown, input: StoreInstanceInput, blobPath: string): Promise<StoreInstanceResult> {
    // Remove the blob only when it is certain no committed row points to it (a failed COMMIT
    // may still have committed); otherwise it stays for the orphan sweep to judge.
    let row: Row | undefined;
    try {
      row = await withSql(this.db, (sql) => sql.first('SELECT study_instance_uid, series_instance_uid, blob_path FROM instances WHERE sop_instance_uid = ?', [input.sopInstanceUID]));
    } catch {
      throw err;
    }
    if (row?.blob_path === blobPath) throw err;
    await this.blobs.remove(blobPath);
    if (!isUniqueViolation(err)) throw err;
    // A concurrent store (this process or another) committed the same UID first.
    if (!row) throw new StorageError('uid-conflict', 'a series UID of this instance already belongs to another study', { path: input.seriesInstanceUID, cause: err });
    // Another process's store, its blob perhaps still being flushed: answered once it is on disk.
    if ((await this.settleUnconfirmed(input.sopInstanceUID, { mayDiscard: false })) === 'discarded') return this.storeOnce(input);
    return this.resent(await this.duplicate(input, row), input);
  }

  /**
   * Checks every instance committed before its blob was known to be on disk (left by a power
   * loss or a crash): one whose blob reads back whole and authenticates is flushed and kept, one
   * whose blob is missing or broken is taken back with `instance.discarded` in the audit trail.
   * Run at start, before the gateway serves anything. With `olderThanMs`, only rows older than
   * that: younger ones may be other processes' stores in flight (PostgreSQL).
   */
  async repairUnconfirmed(options: { olderThanMs?: number } = {}): Promise<RepairReport> {
    const report = { kept: 0, discarded: 0, deferred: 0 };
    // (No cutoff without `olderThanMs`: a row dated ahead of a clock set back is checked too.)
    const cutoff = options.olderThanMs === undefined ? Infinity : this.now().getTime() - options.olderThanMs;
    const rows = await this.db.knex('unconfirmed_instances').select('sop_instance_uid', 'created_at');
    for (const row of rows) {
      if (num(row.created_at) > cutoff) {
        report.deferred += 1;
        continue;
      }
      const outcome = await this.repairOne(String(row.sop_instance_uid), { mayDiscard: true });
      if (outcome === 'kept') report.kept += 1;
      else if (outcome === 'discarded') report.discarded += 1;
    }
    return report;
  }

  /**
   * Before a resend is answered from a row this process did not just store: when the row is still
   * unconfirmed, its blob is checked and flushed here. A row older than the grace period is
   * repaired (taken back when its blob is not whole: `discarded`, to be stored anew); a younger
   * one may be another process's store in flight, so a blob not yet whole is `blob-missing`
   * (the sender tries again later) and nothing is taken back.
   */
  private async settleUnconfirmed(sopInstanceUID: string, options: { mayDiscard: boolean }): Promise<'confirmed' | 'kept' | 'discarded'> {
    if (this.confirmed.includes(sopInstanceUID)) return 'confirmed';
    // The row and its mark read together: taken back in between (another process's repair), it is stored anew.
    const found = await withSql(this.db, (sql) =>
      sql.first('SELECT u.created_at FROM instances i LEFT JOIN unconfirmed_instances u ON u.sop_instance_uid = i.sop_instance_uid WHERE i.sop_instance_uid = ?', [sopInstanceUID]),
    );
    if (!found) return 'discarded';
    if (found.created_at === null || found.created_at === undefined) return 'confirmed';
    const stale = this.now().getTime() - num(found.created_at) >= UNCONFIRMED_GRACE_MS;
    const outcome = await this.repairOne(sopInstanceUID, { mayDiscard: options.mayDiscard && stale });
    return outcome === 'kept' ? 'kept' : 'discarded';
  }

  /**
   * One unconfirmed instance: its blob read back and authenticated, then flushed (file and
   * directory; a crash without a power loss leaves a whole blob in the page cache only) and its
   * row confirmed. A blob not whole is taken back when `mayDiscard`, else `blob-missing`.
   */
  private async repairOne(sop: string, options: { mayDiscard: boolean }): Promise<'kept' | 'gone' | 'discarded'> {
    const state = await this.blobState(sop);
    if (state === 'broken') {
      if (!options.mayDiscard) throw new StorageError('blob-missing', 'the instance is being stored by another process; send it again later', { path: sop });
      await this.discard(sop, 'blob-not-on-disk');
      return 'discarded';
    }
    if (state !== 'gone') await this.blobs.flush(state.blobPath);
    // (An instance removed since, or of an erased study, needs no check either.)
    await sqlTransaction(this.db, (sql) => sql.run('DELETE FROM unconfirmed_instances WHERE sop_instance_uid = ?', [sop]));
    return state === 'gone' ? 'gone' : 'kept';
  }

  /**
   * An instance's blob read back and authenticated: whole (with its path), `broken` (missing or
   * not authentic), or `gone` (no row, or an erased study whose key is destroyed: unreadable for
   * good, nothing to check).
   */
  private async blobState(sop: string): Promise<{ blobPath: string } | 'broken' | 'gone'> {
    const row = await this.db.knex('instances').where({ sop_instance_uid: sop }).first('blob_path', 'study_instance_uid');
    if (!row) return 'gone';
    try {
      const key = await this.keys.get(this.db.knex, String(row.study_instance_uid));
      await this.blobs.read(key.blobKey, String(row.blob_path), sop);
      return { blobPath: String(row.blob_path) };
    } catch (err) {
      if (err instanceof StorageError && err.code === 'study-key-destroyed') return 'gone';
      if (err instanceof StorageError && (err.code === 'blob-missing' || err.code === 'blob-corrupt')) return 'broken';
      throw err;
    }
  }

  /** Removes the unconfirmed rows of blobs flushed since (when no store came to do it). */
  async confirmFlushed(): Promise<void> {
    const confirming = this.confirmed.splice(0);
    if (confirming.length === 0) return;
    try {
      await sqlTransaction(this.db, (sql) => deleteUnconfirmed(sql, confirming));
    } catch (err) {
      this.confirmed.push(...confirming);
      throw err;
    }
  }

  /**
   * Takes back an instance whose blob is not on disk: its vault record, row and counts go in one
   * transaction with an `instance.discarded` audit event, then the blob file.
   */
  private async discard(sopInstanceUID: string, reason: string): Promise<void> {
    const blobPath = await sqlTransaction(this.db, async (sql) => {
      await sql.run('DELETE FROM unconfirmed_instances WHERE sop_instance_uid = ?', [sopInstanceUID]);
      const row = await sql.first('SELECT study_instance_uid, series_instance_uid, blob_path FROM instances WHERE sop_instance_uid = ?', [sopInstanceUID]);
      if (!row) return undefined;
      const study = String(row.study_instance_uid);
      const series = String(row.series_instance_uid);
      await sql.run('DELETE FROM vault_records WHERE sop_instance_uid = ?', [sopInstanceUID]);
      await sql.run('DELETE FROM instances WHERE sop_instance_uid = ?', [sopInstanceUID]);
      await sql.run('UPDATE series SET instance_count = instance_count - 1 WHERE series_instance_uid = ?', [series]);
      const emptied = await sql.run('DELETE FROM series WHERE series_instance_uid = ? AND instance_count <= 0', [series]);
      const t = this.now().getTime();
      await sql.run('UPDATE studies SET instance_count = instance_count - 1, series_count = series_count - ?, updated_at = ? WHERE study_instance_uid = ?', [emptied, t, study]);
      await appendAuditEvent(sql, this.now(), { type: 'instance.discarded', studyInstanceUID: study, detail: { sopInstanceUID, reason } });
      return String(row.blob_path);
    });
    if (blobPath) await this.blobs.remove(blobPath);
  }

  /**
   * Answers a resend found outside a transaction. The row may come from a commit whose WAL flush
   * is still running (a concurrent store of the same instance): it is answered once durable.
   */
  private async resent(result: StoreInstanceResult, input: StoreInstanceInput): Promise<StoreInstanceResult> {
    if (input.audit) {
      const event = input.audit(result);
      await sqlTransaction(this.db, (sql) => appendAuditEvent(sql, this.now(), event));
    } else await committedIsDurable(this.db);
    return result;
  }

  /** Step 1 on a study's first instance: the study row and its key, created in one transaction. */
  private async createStudy(input: StoreInstanceInput): Promise<StudyKey> {
    const study = input.studyInstanceUID;
    await writeTransaction(this.db, async (trx) => {
      const t = this.now().getTime();
      await trx('studies')
        .insert({ study_instance_uid: study, status: 'receiving', route: input.route, stable_seconds: input.stableSeconds, retention_days: input.retentionDays, attributes: '{}', created_at: t, updated_at: t })
        .onConflict('study_instance_uid')
        .ignore();
      await this.keys.ensure(trx, study);
    });
    return withSql(this.db, (sql) => this.keys.load(sql, study));
  }

  /**
   * Removes a whole series (a superseded result Limen derived itself): rows and counts in one
   * transaction, then the blobs. A crash in between leaves orphan blobs for the sweep, never a
   * row without its blob. Returns the number of instances removed.
   */
  async removeSeries(studyInstanceUID: string, seriesInstanceUID: string): Promise<number> {
    const paths = await writeTransaction(this.db, (trx) => deleteSeriesRows(trx, studyInstanceUID, seriesInstanceUID, this.now()));
    for (const path of paths) await this.blobs.remove(path);
    return paths.length;
  }

  /** Metadata of one instance, or null. */
  async info(sopInstanceUID: string): Promise<InstanceInfo | null> {
    const row = await this.db.knex('instances').where({ sop_instance_uid: sopInstanceUID }).first();
    return row ? toInfo(row) : null;
  }

  /** Instances of a study (optionally one series), by series then instance number. */
  async list(studyInstanceUID: string, seriesInstanceUID?: string): Promise<InstanceInfo[]> {
    const q = this.db.knex('instances').where({ study_instance_uid: studyInstanceUID });
    if (seriesInstanceUID !== undefined) q.where({ series_instance_uid: seriesInstanceUID });
    const rows = await q.orderBy([{ column: 'series_instance_uid' }, { column: 'instance_number' }, { column: 'sop_instance_uid' }]);
    return rows.map(toInfo);
  }

  /** An instance's decrypted bytes, or null when unknown; `blob-corrupt` when they do not authenticate. */
  async blob(sopInstanceUID: string): Promise<InstanceBlob | null> {
    const row = await this.db.knex('instances').where({ sop_instance_uid: sopInstanceUID }).first();
    if (!row) return null;
    const info = toInfo(row);
    const key = await this.keys.get(this.db.knex, info.studyInstanceUID);
    const bytes = await this.blobs.read(key.blobKey, String(row.blob_path), sopInstanceUID);
    return { ...info, bytes };
  }

  private async commit(sql: Sql, input: StoreInstanceInput, key: StudyKey, blobPath: string, receivedAt: number, confirmed: readonly string[]): Promise<StoreInstanceResult> {
    // PostgreSQL: the study row stays locked to the end; SQLite: BEGIN IMMEDIATE already holds the write lock.
    const study = await sql.first(`SELECT * FROM studies WHERE study_instance_uid = ?${sql.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [input.studyInstanceUID]);
    if (!study) throw new StorageError('not-found', 'the study row vanished before the instance was committed', { path: input.studyInstanceUID });
    // A concurrent store of the same instance that committed first makes the instance INSERT below
    // fail as a unique violation, answered as a resend by `storeOnce`.
    const t = this.now().getTime();
    // Counting the instance into its series is also the lookup: no row changed means a new series (or a foreign one).
    const counted = await sql.run('UPDATE series SET instance_count = instance_count + 1 WHERE series_instance_uid = ? AND study_instance_uid = ?', [input.seriesInstanceUID, input.studyInstanceUID]);
    const newSeries = counted === 0;
    if (newSeries) {
      if (await sql.first('SELECT study_instance_uid FROM series WHERE series_instance_uid = ?', [input.seriesInstanceUID])) {
        throw new StorageError('uid-conflict', 'this series already belongs to another study', { path: input.seriesInstanceUID });
      }
      await sql.run('INSERT INTO series (series_instance_uid, study_instance_uid, modality, series_number, instance_count, attributes, created_at) VALUES (?, ?, ?, ?, 1, ?, ?)', [
        input.seriesInstanceUID,
        input.studyInstanceUID,
        input.modality ?? null,
        input.seriesNumber ?? null,
        JSON.stringify(input.seriesAttributes ?? {}),
        t,
      ]);
    }
    await sql.run(
      'INSERT INTO instances (sop_instance_uid, series_instance_uid, study_instance_uid, sop_class_uid, transfer_syntax_uid, instance_number, blob_path, size_bytes, attributes, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        input.sopInstanceUID,
        input.seriesInstanceUID,
        input.studyInstanceUID,
        input.sopClassUID,
        input.transferSyntaxUID,
        input.instanceNumber ?? null,
        blobPath,
        input.bytes.length,
        JSON.stringify(input.instanceAttributes ?? {}),
        receivedAt,
      ],
    );
    await markUnconfirmed(sql, input.sopInstanceUID, t, confirmed);
    if (input.linkage !== undefined) await sealRecord(sql, key, input.sopInstanceUID, input.linkage, new Date(t));

    const instanceCount = num(study.instance_count);
    const firstReceived = study.first_received_at === null ? receivedAt : Math.min(num(study.first_received_at), receivedAt);
    const lastReceived = study.last_received_at === null ? receivedAt : Math.max(num(study.last_received_at), receivedAt);
    // A late instance for a completed study that nobody has started on reopens it and withdraws its
    // job. One whose result was not approved (failed, awaiting review, rejected) is reopened as well,
    // its open review withdrawn: the result shows a study without this instance, and completing
    // again processes the whole study. A study being processed, approved or delivered stays as it is.
    const previous = study.status as StudyStatus;
    let status = previous;
    let reopened = false;
    if (REOPENED_UNDECIDED.includes(status)) {
      await sql.run("DELETE FROM reviews WHERE study_instance_uid = ? AND status IN ('pending', 'in_review')", [input.studyInstanceUID]);
      status = 'receiving';
      reopened = true;
    } else if (status === 'complete') {
      // Started on means running now: an earlier run's finished job (the study processed again) does not count.
      const running = await sql.first("SELECT id FROM jobs WHERE study_instance_uid = ? AND type = ? AND status = 'running'", [input.studyInstanceUID, PROCESS_JOB]);
      if (!running) {
        await sql.run("UPDATE jobs SET status = 'cancelled', last_error = ?, updated_at = ?, finished_at = ? WHERE study_instance_uid = ? AND type = ? AND status = 'queued'", [
          'study reopened by a late instance',
          t,
          t,
          input.studyInstanceUID,
          PROCESS_JOB,
        ]);
        status = 'receiving';
        reopened = true;
      }
    }
    // Only what changed is set: an indexed column named in SET rewrites its index entry (one more
    // page in the commit) even when its value stays; status and expiry change once or twice a study.
    const changes: Array<[string, unknown]> = [
      ['instance_count', instanceCount + 1],
      ['last_received_at', lastReceived],
      ['attributes', JSON.stringify({ ...(input.attributes ?? {}), ...jsonObject(study.attributes) })],
      ['updated_at', t],
    ];
    if (newSeries) changes.push(['series_count', num(study.series_count) + 1]);
    if (reopened) changes.push(['status', status], ['completed_at', null]);
    if (study.first_received_at === null || firstReceived !== num(study.first_received_at)) {
      changes.push(['first_received_at', firstReceived], ['expires_at', firstReceived + num(study.retention_days) * DAY_MS]);
    }
    await sql.run(`UPDATE studies SET ${changes.map(([column]) => `${column} = ?`).join(', ')} WHERE study_instance_uid = ?`, [
      ...changes.map(([, value]) => value),
      input.studyInstanceUID,
    ]);
    const result: StoreInstanceResult = {
      duplicate: false,
      studyInstanceUID: input.studyInstanceUID,
      seriesInstanceUID: input.seriesInstanceUID,
      sopInstanceUID: input.sopInstanceUID,
      newStudy: instanceCount === 0,
      newSeries,
      reopened,
      ...(reopened && { reopenedFrom: previous }),
      studyStatus: status,
    };
    if (input.audit) await appendAuditEvent(sql, this.now(), input.audit(result));
    return result;
  }

  private async duplicate(input: StoreInstanceInput, known: Row): Promise<StoreInstanceResult> {
    if (known.study_instance_uid !== input.studyInstanceUID || known.series_instance_uid !== input.seriesInstanceUID) {
      throw new StorageError('uid-conflict', 'this SOP Instance UID is already stored under another study or series', { path: input.sopInstanceUID });
    }
    const study = await withSql(this.db, (sql) => sql.first('SELECT status FROM studies WHERE study_instance_uid = ?', [input.studyInstanceUID]));
    return {
      duplicate: true,
      studyInstanceUID: input.studyInstanceUID,
      seriesInstanceUID: input.seriesInstanceUID,
      sopInstanceUID: input.sopInstanceUID,
      newStudy: false,
      newSeries: false,
      reopened: false,
      studyStatus: study?.status as StudyStatus,
    };
  }
}

/**
 * Deletes a series' rows in `trx`: its instances, their vault records, the series, and the study's
 * counts. Returns the blob paths, for the caller to remove once the transaction has committed.
 */
export async function deleteSeriesRows(trx: Knex.Transaction, studyInstanceUID: string, seriesInstanceUID: string, now: Date): Promise<string[]> {
  const rows = await trx('instances').where({ study_instance_uid: studyInstanceUID, series_instance_uid: seriesInstanceUID }).select('sop_instance_uid', 'blob_path');
  if (rows.length === 0) return [];
  const sops = rows.map((r) => String(r.sop_instance_uid));
  await trx('vault_records').whereIn('sop_instance_uid', sops).delete();
  await trx('instances').where({ study_instance_uid: studyInstanceUID, series_instance_uid: seriesInstanceUID }).delete();
  await trx('series').where({ study_instance_uid: studyInstanceUID, series_instance_uid: seriesInstanceUID }).delete();
  await trx('studies')
    .where({ study_instance_uid: studyInstanceUID })
    .update({ instance_count: trx.raw('instance_count - ?', [rows.length]), series_count: trx.raw('series_count - 1'), updated_at: now.getTime() });
  return rows.map((r) => String(r.blob_path));
}

/** Unconfirmed rows removed at most per commit (the rest wait for the next). */
const CONFIRM_BATCH = 64;

/**
 * How long an unconfirmed row may belong to a store in flight. No store takes this long; a row
 * older than this was left by a process that stopped before confirming it.
 */
export const UNCONFIRMED_GRACE_MS = 60_000;

/**
 * Names an instance as unconfirmed until a later commit says its blob is on disk, and removes the
 * rows of those known to be there now. ON CONFLICT: a row left by an instance removed since. One
 * statement on PostgreSQL, where each is a round trip under the study's row lock; SQLite runs
 * cached statements in process.
 */
async function markUnconfirmed(sql: Sql, sopInstanceUID: string, at: number, confirmed: readonly string[]): Promise<void> {
  const insert = 'INSERT INTO unconfirmed_instances (sop_instance_uid, created_at) VALUES (?, ?) ON CONFLICT (sop_instance_uid) DO UPDATE SET created_at = excluded.created_at';
  if (sql.dialect === 'postgres') {
    await sql.run(`WITH confirmed AS (DELETE FROM unconfirmed_instances WHERE sop_instance_uid = ANY(?)) ${insert}`, [[...confirmed], sopInstanceUID, at]);
    return;
  }
  await sql.run(insert, [sopInstanceUID, at]);
  await deleteUnconfirmed(sql, confirmed);
}

/** Removes the unconfirmed rows of instances whose blobs are known to be on disk. */
async function deleteUnconfirmed(sql: Sql, sops: readonly string[]): Promise<void> {
  if (sops.length === 0) return;
  if (sql.dialect === 'postgres') await sql.run('DELETE FROM unconfirmed_instances WHERE sop_instance_uid = ANY(?)', [[...sops]]);
  else for (const sop of sops) await sql.run('DELETE FROM unconfirmed_instances WHERE sop_instance_uid = ?', [sop]);
}

/** A missing key (a study not created yet) is an answer, not an error. */
function unlessNotFound(err: unknown): undefined {
  if (err instanceof StorageError && err.code === 'not-found') return undefined;
  throw err;
}

function validate(input: StoreInstanceInput): void {
  for (const field of ['studyInstanceUID', 'seriesInstanceUID', 'sopInstanceUID', 'sopClassUID', 'transferSyntaxUID'] as const) {
    if (!isUID(input[field])) throw new StorageError('invalid-input', `${field} is not a valid UID`, { path: field });
  }
  if (!(input.bytes instanceof Uint8Array) || input.bytes.length === 0) throw new StorageError('invalid-input', 'bytes must be a non-empty Uint8Array', { path: 'bytes' });
  if (typeof input.route !== 'string' || input.route.length === 0 || input.route.length > 128) throw new StorageError('invalid-input', 'route is 1 to 128 characters', { path: 'route' });
  if (!Number.isInteger(input.stableSeconds) || input.stableSeconds < 1) throw new StorageError('invalid-input', 'stableSeconds must be an integer of at least 1', { path: 'stableSeconds' });
  if (!Number.isInteger(input.retentionDays) || input.retentionDays < 1) throw new StorageError('invalid-input', 'retentionDays must be an integer of at least 1', { path: 'retentionDays' });
  if (input.modality !== undefined && (typeof input.modality !== 'string' || input.modality.length > 16)) throw new StorageError('invalid-input', 'modality is at most 16 characters', { path: 'modality' });
  for (const field of ['seriesNumber', 'instanceNumber'] as const) {
    const v = input[field];
    if (v !== undefined && !Number.isSafeInteger(v)) throw new StorageError('invalid-input', `${field} must be an integer`, { path: field });
  }
  if (input.receivedAt !== undefined && Number.isNaN(input.receivedAt.getTime())) throw new StorageError('invalid-input', 'receivedAt is not a valid time', { path: 'receivedAt' });
  if (input.audit !== undefined && typeof input.audit !== 'function') throw new StorageError('invalid-input', 'audit must be a function of the store result', { path: 'audit' });
  if (input.linkage !== undefined && JSON.stringify(input.linkage) === undefined) throw new StorageError('invalid-input', 'the linkage record must be JSON', { path: 'linkage' });
}

function toInfo(row: Record<string, unknown>): InstanceInfo {
  return {
    sopInstanceUID: String(row.sop_instance_uid),
    seriesInstanceUID: String(row.series_instance_uid),
    studyInstanceUID: String(row.study_instance_uid),
    sopClassUID: String(row.sop_class_uid),
    transferSyntaxUID: String(row.transfer_syntax_uid),
    instanceNumber: row.instance_number === null ? null : num(row.instance_number),
    sizeBytes: num(row.size_bytes),
    receivedAt: new Date(num(row.received_at)),
    attributes: jsonObject(row.attributes),
  };
}
