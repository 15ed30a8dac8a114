/**
 * The job queue (table `jobs`): work the pipeline picks up, with leases so a crashed worker's
 * job is claimed again, retries with exponential backoff, and a dead state that keeps the
 * last error. PostgreSQL claims with `FOR UPDATE SKIP LOCKED` so several processes never get
 * the same job; SQLite claims inside a transaction on its single connection.
 */
import type { Knex } from 'knex';
import type { Database } from './db/index.js';
import { writeTransaction } from './db/transaction.js';
import { sqlIn } from './db/sql.js';
import { appendAuditEvent, type AuditEventInput } from './audit.js';
import { dateOrNull, json, num, numOrNull } from './db/rows.js';
import { StorageError } from './errors.js';
import { moveStudy, type StudyStatus } from './studies.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'dead' | 'cancelled';

/** A job as stored. */
export interface Job {
  id: number;
  type: string;
  studyInstanceUID: string | null;
  payload: unknown;
  status: JobStatus;
  /** Claims so far, including the current one. */
  attempts: number;
  maxAttempts: number;
  /** When the job may next be claimed. */
  runAt: Date;
  leaseExpiresAt: Date | null;
  workerId: string | null;
  stage: string | null;
  percent: number | null;
  lastError: string | null;
  result: unknown;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface EnqueueOptions {
  /** Claims allowed before the job is dead; default from the queue's options. */
  maxAttempts?: number;
  /** Not claimable before this time; default now. */
  runAt?: Date;
}

/** Retry policy: the n-th retry waits min(base · 2^(n-1), max) seconds. */
export interface JobQueueOptions {
  defaultMaxAttempts?: number;
  backoffBaseSeconds?: number;
  backoffMaxSeconds?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_BASE_SECONDS = 10;
export const DEFAULT_BACKOFF_MAX_SECONDS = 3600;

/** The study's move when the last unfinished job of a set completes (every export delivered: `approved` → `delivered`). */
export interface StudySettlement {
  from: StudyStatus;
  to: StudyStatus;
}

/** What `fail` did with the job. */
export type FailOutcome =
  | { status: 'queued'; nextRunAt: Date; attempts: number }
  | { status: 'dead'; attempts: number }
  /** The worker no longer held the job (lease lost, or already finished). */
  | { status: 'not-owner' };

/** Inserts a queued job with `q` (a transaction, so it commits with the change that caused it). */
export async function insertJob(q: Knex | Knex.Transaction, now: Date, type: string, studyInstanceUID: string | null, payload: unknown, maxAttempts: number, runAt?: Date): Promise<number> {
  if (!type || type.length > 64) throw new StorageError('invalid-input', 'a job type is 1 to 64 characters', { path: 'type' });
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new StorageError('invalid-input', 'maxAttempts must be a positive integer', { path: 'maxAttempts' });
  const t = now.getTime();
  const [row] = await q('jobs')
    .insert({
      type,
      study_instance_uid: studyInstanceUID,
      payload: JSON.stringify(payload ?? null),
      status: 'queued',
      attempts: 0,
      max_attempts: maxAttempts,
      run_at: (runAt ?? now).getTime(),
      created_at: t,
      updated_at: t,
    })
    .returning('id');
  return num(typeof row === 'object' ? (row as { id: unknown }).id : row);
}

/** The job queue over the `jobs` table. */
export class JobQueue {
  private readonly defaultMaxAttempts: number;
  private readonly backoffBase: number;
  private readonly backoffMax: number;

  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
    options: JobQueueOptions = {},
  ) {
    this.defaultMaxAttempts = options.defaultMaxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.backoffBase = options.backoffBaseSeconds ?? DEFAULT_BACKOFF_BASE_SECONDS;
    this.backoffMax = options.backoffMaxSeconds ?? DEFAULT_BACKOFF_MAX_SECONDS;
  }

  /** Queues a job; returns it. */
  async enqueue(type: string, studyInstanceUID: string | null, payload: unknown, options: EnqueueOptions = {}): Promise<Job> {
    const id = await insertJob(this.db.knex, this.now(), type, studyInstanceUID, payload, options.maxAttempts ?? this.defaultMaxAttempts, options.runAt);
    return (await this.get(id))!;
  }

  /**
   * Claims the oldest due job of `type` for `workerId` with a lease of `leaseSeconds`: a queued
   * job whose time has come, or a running job whose lease expired (its worker is presumed
   * dead). A job whose lease expired on its last allowed attempt goes dead instead, and is given
   * to `onDead` once that is committed: no worker's failure handler saw it die (its worker was lost).
   */
  async claim(type: string, workerId: string, leaseSeconds: number, options: { onDead?(job: Job): void } = {}): Promise<Job | null> {
    if (!(leaseSeconds > 0)) throw new StorageError('invalid-input', 'leaseSeconds must be positive', { path: 'leaseSeconds' });
    const buried: number[] = [];
    const id = await writeTransaction(this.db, async (trx) => {
      for (;;) {
        const t = this.now().getTime();
        let query = trx('jobs')
          .where({ type })
          .andWhere((w) => w.where((q) => q.where('status', 'queued').andWhere('run_at', '<=', t)).orWhere((q) => q.where('status', 'running').andWhere('lease_expires_at', '<=', t)))
          .orderBy([{ column: 'run_at' }, { column: 'id' }])
          .first('id', 'status', 'attempts', 'max_attempts');
        if (this.db.dialect === 'postgres') query = query.forUpdate().skipLocked();
        const row = await query;
        if (!row) return null;
        if (row.status === 'running' && num(row.attempts) >= num(row.max_attempts)) {
          await trx('jobs')
            .where({ id: row.id })
            .update({ status: 'dead', last_error: `lease expired on attempt ${num(row.attempts)} of ${num(row.max_attempts)} (worker lost)`, lease_expires_at: null, updated_at: t, finished_at: t });
          buried.push(num(row.id));
          continue;
        }
        await trx('jobs')
          .where({ id: row.id })
          .update({ status: 'running', worker_id: workerId, attempts: num(row.attempts) + 1, lease_expires_at: t + Math.round(leaseSeconds * 1000), stage: null, percent: null, updated_at: t });
        return num(row.id);
      }
    });
    // The claimed job is read before any dead one is told, so a failing handler cannot strand it.
    const claimed = id === null ? null : await this.get(id);
    for (const dead of options.onDead ? buried : []) {
      try {
        const job = await this.get(dead);
        if (job) options.onDead!(job);
      } catch {
        // Told once, best effort: the job is dead in the database either way.
      }
    }
    return claimed;
  }

  /** Extends the lease; false when `workerId` no longer holds the job (stop working on it). */
  async heartbeat(id: number, workerId: string, leaseSeconds: number): Promise<boolean> {
    const t = this.now().getTime();
    return this.updateOwned(id, workerId, { lease_expires_at: t + Math.round(leaseSeconds * 1000), updated_at: t });
  }

  /**
   * Ends the lease of every running job now, so that the next claim takes it up (or, on its last
   * attempt, ends it) as it would once the lease ran out. For a process that knows it is the only
   * one working the queue (SQLite: the data dir's lock) and was just started: any running job is
   * one the previous process was working on when it died. Returns how many there were.
   */
  async expireLeases(): Promise<number> {
    const t = this.now().getTime();
    return this.db.knex('jobs').where('status', 'running').andWhere('lease_expires_at', '>', t).update({ lease_expires_at: t, updated_at: t });
  }

  /** Records progress; does not extend the lease (that is `heartbeat`). */
  async progress(id: number, workerId: string, progress: { stage: string; percent?: number }): Promise<boolean> {
    const percent = progress.percent === undefined ? null : Math.max(0, Math.min(100, progress.percent));
    return this.updateOwned(id, workerId, { stage: progress.stage.slice(0, 64), percent, updated_at: this.now().getTime() });
  }

  /**
   * Marks the job done with an optional JSON result. `audit`, what the job did, commits with it;
   * false, and nothing recorded, when the job is no longer this worker's. With `settles`, the job
   * is one of a set (one per destination): the one that finds every other job of its type for its
   * study done moves the study, in the same transaction.
   */
  async complete(id: number, workerId: string, result?: unknown, audit?: AuditEventInput, settles?: StudySettlement): Promise<boolean> {
    const t = this.now();
    // A done job shows no error: an earlier attempt's is in the audit trail (its failure event).
    const patch = { status: 'done', result: result === undefined ? null : JSON.stringify(result), last_error: null, lease_expires_at: null, percent: 100, updated_at: t.getTime(), finished_at: t.getTime() };
    if (!audit && !settles) return this.updateOwned(id, workerId, patch);
    return writeTransaction(this.db, async (trx) => {
      const job = settles ? await trx('jobs').where({ id }).first('type', 'study_instance_uid') : undefined;
      const study = job?.study_instance_uid as string | null | undefined;
      // Two jobs of a set finishing at once on PostgreSQL would each see the other still running
      // (neither committed) and neither would move the study: the study's row is locked first,
      // so the second waits for the first and then sees it done. SQLite writes one at a time.
      if (study && this.db.dialect === 'postgres') await trx('studies').where({ study_instance_uid: study }).forUpdate().first('study_instance_uid');
      const changed = await this.updateOwned(id, workerId, patch, trx);
      if (!changed) return false;
      if (study && settles) {
        const unfinished = await trx('jobs').where({ type: job.type, study_instance_uid: study }).whereNot('status', 'done').count({ n: '*' }).first();
        if (num(unfinished?.n) === 0) await moveStudy(trx, study, settles.to, t, settles.from);
      }
      if (audit) await appendAuditEvent(sqlIn(trx, this.db), t, audit);
      return true;
    });
  }

  /**
   * Records a failure. A retryable failure with attempts left is queued again after the
   * backoff; otherwise the job is dead and keeps `error` (which must be PHI-free).
   */
  async fail(
    id: number,
    workerId: string,
    error: string,
    options: {
      retryable?: boolean;
      /** Overrides the exponential backoff (a configured retry schedule). */
      delaySeconds?: number;
      /** An audit event of the failure, committed with it. */
      audit?: (outcome: 'queued' | 'dead') => AuditEventInput;
    } = {},
  ): Promise<FailOutcome> {
    return writeTransaction(this.db, async (trx) => {
      const row = await trx('jobs').where({ id, worker_id: workerId, status: 'running' }).first('attempts', 'max_attempts');
      if (!row) return { status: 'not-owner' } as const;
      const t = this.now().getTime();
      const attempts = num(row.attempts);
      const record = async (outcome: 'queued' | 'dead') => {
        if (options.audit) await appendAuditEvent(sqlIn(trx, this.db), new Date(t), options.audit(outcome));
      };
      if ((options.retryable ?? true) && attempts < num(row.max_attempts)) {
        const delay = options.delaySeconds ?? Math.min(this.backoffBase * 2 ** (attempts - 1), this.backoffMax);
        const nextRunAt = t + Math.round(delay * 1000);
        await trx('jobs').where({ id }).update({ status: 'queued', run_at: nextRunAt, last_error: error, lease_expires_at: null, worker_id: null, updated_at: t });
        await record('queued');
        return { status: 'queued', nextRunAt: new Date(nextRunAt), attempts } as const;
      }
      await trx('jobs').where({ id }).update({ status: 'dead', last_error: error, lease_expires_at: null, updated_at: t, finished_at: t });
      await record('dead');
      return { status: 'dead', attempts } as const;
    });
  }

  /**
   * Hands a running job back to the queue, due now, without waiting for its lease to expire: the
   * worker was stopped, the job did not fail. The attempt it was on is given back, and its last
   * error stays. False when `workerId` no longer holds the job.
   */
  async release(id: number, workerId: string): Promise<boolean> {
    const t = this.now().getTime();
    const changed = await this.db.knex('jobs')
      .where({ id, worker_id: workerId, status: 'running' })
      .update({ status: 'queued', run_at: t, attempts: this.db.knex.raw('CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END'), lease_expires_at: null, worker_id: null, stage: null, percent: null, updated_at: t });
    return Number(changed) > 0;
  }

  /**
   * Gives a dead job a new round of attempts, due now (an admin's retry after the cause was
   * fixed). Attempts go on counting (the round's are added to what it may take), so each
   * attempt's audit events keep a number of their own. Its last error stays until the next attempt
   * replaces it. False when it is not dead.
   */
  async retry(id: number, audit?: AuditEventInput): Promise<boolean> {
    return writeTransaction(this.db, async (trx) => {
      const t = this.now();
      const round = { status: 'queued', max_attempts: trx.raw('attempts + max_attempts'), run_at: t.getTime(), finished_at: null, worker_id: null, lease_expires_at: null, updated_at: t.getTime() };
      const changed = Number(await trx('jobs').where({ id, status: 'dead' }).update(round)) > 0;
      // The request's event is recorded with the retry it asked for, and only then.
      if (changed && audit) await appendAuditEvent(sqlIn(trx, this.db), t, audit);
      return changed;
    });
  }

  /** One job, or null. */
  async get(id: number): Promise<Job | null> {
    const row = await this.db.knex('jobs').where({ id }).first();
    return row ? toJob(row) : null;
  }

  /** Jobs matching the filter, oldest first. */
  async list(filter: { type?: string; status?: JobStatus; studyInstanceUID?: string; limit?: number } = {}): Promise<Job[]> {
    const q = this.db.knex('jobs').orderBy('id').limit(Math.min(filter.limit ?? 100, 1000));
    if (filter.type !== undefined) q.where('type', filter.type);
    if (filter.status !== undefined) q.where('status', filter.status);
    if (filter.studyInstanceUID !== undefined) q.where('study_instance_uid', filter.studyInstanceUID);
    return (await q).map(toJob);
  }

  private async updateOwned(id: number, workerId: string, patch: Record<string, unknown>, q: Knex | Knex.Transaction = this.db.knex): Promise<boolean> {
    const changed = await q('jobs').where({ id, worker_id: workerId, status: 'running' }).update(patch);
    return Number(changed) > 0;
  }
}

function toJob(row: Record<string, unknown>): Job {
  return {
    id: num(row.id),
    type: String(row.type),
    studyInstanceUID: (row.study_instance_uid as string | null) ?? null,
    payload: json(row.payload),
    status: row.status as JobStatus,
    attempts: num(row.attempts),
    maxAttempts: num(row.max_attempts),
    runAt: new Date(num(row.run_at)),
    leaseExpiresAt: dateOrNull(row.lease_expires_at),
    workerId: (row.worker_id as string | null) ?? null,
    stage: (row.stage as string | null) ?? null,
    percent: numOrNull(row.percent),
    lastError: (row.last_error as string | null) ?? null,
    result: row.result === null || row.result === undefined ? null : json(row.result),
    createdAt: new Date(num(row.created_at)),
    updatedAt: new Date(num(row.updated_at)),
    finishedAt: dateOrNull(row.finished_at),
  };
}
