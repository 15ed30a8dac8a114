/**
 * Study rows: status, route, times, counts and the de-identified attributes later QIDO needs;
 * listing, lookup, and completion (a study is complete once no instance has arrived for its
 * stable time; completing it queues a `process` job in the same transaction).
 */
import type { Knex } from 'knex';
import type { Database } from './db/index.js';
import { writeTransaction } from './db/transaction.js';
import { sqlIn } from './db/sql.js';
import { appendAuditEvent, type AuditEventInput } from './audit.js';
import { dateOrNull, jsonObject, num, numOrNull } from './db/rows.js';
import { StorageError } from './errors.js';
import { insertJob } from './jobs.js';

/** Known study states; later stages add to the list. */
export const STUDY_STATUSES = ['receiving', 'complete', 'processing', 'awaiting_review', 'approved', 'rejected', 'delivered', 'failed', 'expired'] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];

/** The job type queued when a study completes. */
export const PROCESS_JOB = 'process';
/** Attempts a `process` job gets before it is dead. */
export const PROCESS_JOB_MAX_ATTEMPTS = 3;

export interface StudySummary {
  /** Pseudonymous. */
  studyInstanceUID: string;
  status: StudyStatus;
  route: string;
  stableSeconds: number;
  retentionDays: number;
  seriesCount: number;
  instanceCount: number;
  firstReceivedAt: Date | null;
  lastReceivedAt: Date | null;
  expiresAt: Date | null;
  completedAt: Date | null;
  /** De-identified study-level attributes (StudyDate, StudyDescription, PatientID pseudonym...). */
  attributes: Record<string, unknown>;
}

export interface SeriesSummary {
  seriesInstanceUID: string;
  modality: string | null;
  seriesNumber: number | null;
  instanceCount: number;
  attributes: Record<string, unknown>;
}

export interface StudyDetail extends StudySummary {
  series: SeriesSummary[];
}

export interface StudyPage {
  /** Studies matching the filter, all pages together. */
  total: number;
  studies: StudySummary[];
}

export type ReprocessOutcome =
  | { ok: true; jobId: number; previousStatus: StudyStatus }
  | { ok: false; reason: 'not-found' }
  /** The study is in `status`, or already has a process job queued or running. */
  | { ok: false; reason: 'conflict'; status: StudyStatus };

export interface ListStudiesOptions {
  limit?: number;
  offset?: number;
  status?: StudyStatus;
}

export interface CompleteOptions {
  now?: Date;
  /** Overrides the stable time stored on the study, per route name. */
  stableSecondsByRoute?: Record<string, number>;
  /** The audit event of each completion, appended in its transaction (never a completion without its event). */
  audit?: (study: CompletedStudy) => AuditEventInput;
}

export interface CompletedStudy {
  studyInstanceUID: string;
  route: string;
  seriesCount: number;
  instanceCount: number;
  /** The queued `process` job. */
  jobId: number;
}

export const MAX_PAGE = 1000;

/** Queries and state changes on studies. */
export class Studies {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  /** Studies with at least one stored instance, most recently received first. */
  async list(options: ListStudiesOptions = {}): Promise<StudyPage> {
    const limit = Math.max(0, Math.min(options.limit ?? 100, MAX_PAGE));
    const offset = Math.max(0, options.offset ?? 0);
    const base = () => {
      const q = this.db.knex('studies').where('instance_count', '>', 0);
      if (options.status !== undefined) q.where('status', options.status);
      return q;
    };
    const [{ n }] = await base().count({ n: '*' });
    const rows = await base().orderBy([{ column: 'last_received_at', order: 'desc' }, { column: 'study_instance_uid' }]).limit(limit).offset(offset);
    return { total: num(n), studies: rows.map(toStudy) };
  }

  /** One study with its series, or null when unknown or still empty. */
  async get(studyInstanceUID: string): Promise<StudyDetail | null> {
    const row = await this.db.knex('studies').where({ study_instance_uid: studyInstanceUID }).andWhere('instance_count', '>', 0).first();
    if (!row) return null;
    const series = await this.db.knex('series').where({ study_instance_uid: studyInstanceUID }).orderBy([{ column: 'series_number' }, { column: 'series_instance_uid' }]);
    return { ...toStudy(row), series: series.map(toSeries) };
  }

  /**
   * Completes every `receiving` study whose newest instance is older than its stable time and
   * queues one `process` job for each, atomically: a study completes, and gets its job, once.
   * A study that completes anew (a late instance reopened it) keeps the model its latest `process`
   * job was asked for: an admin's choice outlives the instance that cancelled or superseded its run.
   */
  async completeStable(options: CompleteOptions = {}): Promise<CompletedStudy[]> {
    const t = (options.now ?? this.now()).getTime();
    const candidates = await this.db.knex('studies').where({ status: 'receiving' }).andWhere('instance_count', '>', 0).select('study_instance_uid', 'route', 'stable_seconds', 'last_received_at');
    const completed: CompletedStudy[] = [];
    for (const c of candidates) {
      const stable = options.stableSecondsByRoute?.[c.route as string] ?? num(c.stable_seconds);
      const last = num(c.last_received_at);
      if (last + stable * 1000 > t) continue;
      const done = await writeTransaction(this.db, async (trx) => {
        // Guarded on status and time: another scheduler, or an instance that just arrived, wins.
        const changed = await trx('studies')
          .where({ study_instance_uid: c.study_instance_uid, status: 'receiving', last_received_at: last })
          .update({ status: 'complete', completed_at: t, updated_at: t });
        if (Number(changed) !== 1) return null;
        const row = await trx('studies').where({ study_instance_uid: c.study_instance_uid }).first('series_count', 'instance_count');
        const latest = await trx('jobs').where({ study_instance_uid: c.study_instance_uid, type: PROCESS_JOB }).orderBy('id', 'desc').first('payload');
        const model = latest ? jsonObject(latest.payload).model : undefined;
        const payload = { studyInstanceUID: c.study_instance_uid, ...(typeof model === 'string' && { model }) };
        const jobId = await insertJob(trx, new Date(t), PROCESS_JOB, String(c.study_instance_uid), payload, PROCESS_JOB_MAX_ATTEMPTS);
        const study: CompletedStudy = { studyInstanceUID: String(c.study_instance_uid), route: String(c.route), seriesCount: num(row.series_count), instanceCount: num(row.instance_count), jobId };
        if (options.audit) await appendAuditEvent(sqlIn(trx, this.db), new Date(t), options.audit(study));
        return study;
      });
      if (done) completed.push(done);
    }
    return completed;
  }

  /**
   * Queues the study for processing again (another model, or after a failure), atomically with
   * the status change: only from a status in `from`, and never while a `process` job is queued
   * or running. An undecided review is withdrawn in the same transaction, so nobody approves a
   * result that is about to be replaced.
   */
  async reprocess(
    studyInstanceUID: string,
    payload: Record<string, unknown>,
    from: readonly StudyStatus[],
    audit?: (queued: { jobId: number; previousStatus: StudyStatus }) => AuditEventInput,
  ): Promise<ReprocessOutcome> {
    return writeTransaction(this.db, async (trx) => {
      const row = await trx('studies').where({ study_instance_uid: studyInstanceUID }).first('status');
      if (!row) return { ok: false, reason: 'not-found' } as const;
      const status = row.status as StudyStatus;
      const active = await trx('jobs').where({ study_instance_uid: studyInstanceUID, type: PROCESS_JOB }).whereIn('status', ['queued', 'running']).first('id');
      if (active || !from.includes(status)) return { ok: false, reason: 'conflict', status } as const;
      const t = this.now();
      await trx('studies').where({ study_instance_uid: studyInstanceUID, status }).update({ status: 'complete', updated_at: t.getTime() });
      await trx('reviews').where({ study_instance_uid: studyInstanceUID }).whereIn('status', ['pending', 'in_review']).delete();
      const jobId = await insertJob(trx, t, PROCESS_JOB, studyInstanceUID, { studyInstanceUID, ...payload }, PROCESS_JOB_MAX_ATTEMPTS);
      if (audit) await appendAuditEvent(sqlIn(trx, this.db), t, audit({ jobId, previousStatus: status }));
      return { ok: true, jobId, previousStatus: status } as const;
    });
  }

  /**
   * Moves a study to `to`, only from `from` when given; false when it was not there. `audit` is
   * the event of what moved it, committed in the same transaction, so the trail never lacks the
   * event of a change. It is recorded even when the study had moved on meanwhile (`from` did not
   * match): what happened (an export sent) is a fact either way.
   */
  async setStatus(studyInstanceUID: string, to: StudyStatus, options: SetStatusOptions = {}): Promise<boolean> {
    if (!(STUDY_STATUSES as readonly string[]).includes(to)) throw new StorageError('invalid-input', `unknown study status ${to}`, { path: 'status' });
    const event = options.audit;
    if (!event) return moveStudy(this.db.knex, studyInstanceUID, to, this.now(), options.from);
    return writeTransaction(this.db, async (trx) => {
      const changed = await moveStudy(trx, studyInstanceUID, to, this.now(), options.from);
      await appendAuditEvent(sqlIn(trx, this.db), this.now(), event);
      return changed;
    });
  }
}

/** Sets a study's status (only from `from` when given), in `q`; false when it was not there. */
export async function moveStudy(q: Knex, studyInstanceUID: string, to: StudyStatus, now: Date, from?: StudyStatus | StudyStatus[]): Promise<boolean> {
  const query = q('studies').where({ study_instance_uid: studyInstanceUID });
  if (from !== undefined) query.whereIn('status', Array.isArray(from) ? from : [from]);
  return Number(await query.update({ status: to, updated_at: now.getTime() })) > 0;
}

export interface SetStatusOptions {
  from?: StudyStatus | StudyStatus[];
  audit?: AuditEventInput;
}

export function toStudy(row: Record<string, unknown>): StudySummary {
  return {
    studyInstanceUID: String(row.study_instance_uid),
    status: row.status as StudyStatus,
    route: String(row.route),
    stableSeconds: num(row.stable_seconds),
    retentionDays: num(row.retention_days),
    seriesCount: num(row.series_count),
    instanceCount: num(row.instance_count),
    firstReceivedAt: dateOrNull(row.first_received_at),
    lastReceivedAt: dateOrNull(row.last_received_at),
    expiresAt: dateOrNull(row.expires_at),
    completedAt: dateOrNull(row.completed_at),
    attributes: jsonObject(row.attributes),
  };
}

function toSeries(row: Record<string, unknown>): SeriesSummary {
  return {
    seriesInstanceUID: String(row.series_instance_uid),
    modality: (row.modality as string | null) ?? null,
    seriesNumber: numOrNull(row.series_number),
    instanceCount: num(row.instance_count),
    attributes: jsonObject(row.attributes),
  };
}
