/**
 * `openStorage` composes the database, keys, blob store, vault, instances, studies, jobs,
 * tokens and audit log over one data dir. Nothing here is global: two storages in one
 * process (tests) are independent.
 */
import { dirname, join, resolve } from 'node:path';
import { Results } from './results.js';
import { publishReview, type PublishEffects, type PublishOutcome } from './publish.js';
import { Reviews, type ReviewInput } from './reviews.js';
import { AuditLog, type AuditEventInput } from './audit.js';
import { deriveKey } from './crypto/aead.js';
import { BlobStore } from './blobs.js';
import { bindDataDir } from './data-dir-binding.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { connectDatabase, migrateToLatest, type DatabaseLog, type Dialect } from './db/index.js';
import { createOwnerOnly, ensureDirDurable } from './fs-durable.js';
import { Instances, UNCONFIRMED_GRACE_MS, type InstanceBlob, type RepairReport, type InstanceInfo, type StoreInstanceInput, type StoreInstanceResult } from './instances.js';
import { JobQueue, type JobQueueOptions } from './jobs.js';
import { StudyKeys } from './keys.js';
import { Studies, type CompleteOptions, type CompletedStudy, type ListStudiesOptions, type ReprocessOutcome, type SetStatusOptions, type StudyDetail, type StudyPage, type StudyStatus } from './studies.js';
import { sweepOrphanBlobs, type SweepOptions, type SweepReport } from './sweep.js';
import { TokenStore, type CreateTokenOptions, type CreatedToken, type TokenIdentity } from './tokens.js';
import { Vault } from './vault.js';

/** Directory of the blob store inside the data dir. */
export const BLOB_DIR = 'blobs';

export interface OpenStorageOptions {
  /** Holds the SQLite file (when embedded) and the blobs. Created (mode 0700) when missing. */
  dataDir: string;
  /** `postgres://…` for PostgreSQL; empty or absent for `<dataDir>/limen.sqlite`. */
  databaseUrl?: string;
  /** 32 bytes; see `loadMasterKey`. */
  masterKey: Uint8Array;
  now?: () => Date;
  jobs?: JobQueueOptions;
  /** Where the database driver's own messages go (pool and connection trouble); JSON on stderr by default. */
  databaseLog?: DatabaseLog;
  /**
   * For the serving process (`limen start`): on embedded SQLite, take the data directory's lock,
   * and that of the database file's directory when it lies elsewhere (`data-dir-locked` when
   * another process serves either), held until `close`.
   */
  serve?: boolean;
}

/** Everything the gateway and the pipeline persist. */
export interface Storage {
  readonly dialect: Dialect;
  readonly dataDir: string;
  /** Stores one de-identified instance durably; idempotent per SOP Instance UID. */
  storeInstance(input: StoreInstanceInput): Promise<StoreInstanceResult>;
  /** Decrypted bytes of an instance, or null when unknown; throws `blob-corrupt` rather than return tampered bytes. */
  getInstanceBlob(sopInstanceUID: string): Promise<InstanceBlob | null>;
  getInstance(sopInstanceUID: string): Promise<InstanceInfo | null>;
  listInstances(studyInstanceUID: string, seriesInstanceUID?: string): Promise<InstanceInfo[]>;
  listStudies(options?: ListStudiesOptions): Promise<StudyPage>;
  getStudy(studyInstanceUID: string): Promise<StudyDetail | null>;
  /** Completes stable studies and queues their `process` job (see `Studies.completeStable`). */
  completeStableStudies(options?: CompleteOptions): Promise<CompletedStudy[]>;
  setStudyStatus(studyInstanceUID: string, to: StudyStatus, options?: SetStatusOptions): Promise<boolean>;
  /** Queues the study for processing again; see `Studies.reprocess`. */
  reprocessStudy(studyInstanceUID: string, payload: Record<string, unknown>, from: readonly StudyStatus[], audit?: (queued: { jobId: number; previousStatus: StudyStatus }) => AuditEventInput): Promise<ReprocessOutcome>;
  /** Removes a series Limen derived itself (a superseded SEG); see `Instances.removeSeries`. */
  removeSeries(studyInstanceUID: string, seriesInstanceUID: string): Promise<number>;
  /** Makes a processed result the study's review, in one transaction; see `publishReview`. */
  publishReview(review: ReviewInput, effects: PublishEffects): Promise<PublishOutcome>;
  /** Crypto-shreds a study: its blobs and vault records become unreadable for good. */
  destroyStudyKey(studyInstanceUID: string): Promise<boolean>;
  sweepOrphanBlobs(options?: SweepOptions): Promise<SweepReport>;
  /**
   * Checks the instances committed before their blob was known to be on disk (a power loss or a
   * crash left them) and takes back those whose blob does not read back whole; see
   * `Instances.repairUnconfirmed`. Run at start, before serving. On PostgreSQL only rows older
   * than `UNCONFIRMED_GRACE_MS`: younger ones may be other processes' stores in flight, and are
   * `deferred` (run it again once they are old enough).
   */
  repairUnconfirmedInstances(): Promise<RepairReport>;
  readonly vault: Vault;
  readonly jobs: JobQueue;
  readonly tokens: TokenStore;
  /** Shorthands for `tokens.create` / `tokens.verify`. */
  createToken(options: CreateTokenOptions): Promise<CreatedToken>;
  verifyToken(token: string): Promise<TokenIdentity | null>;
  readonly audit: AuditLog;
  /** The pipeline's result files (GLB, STL, report), encrypted with the study key. */
  readonly results: Results;
  /** The review gate: one review per processed study. */
  readonly reviews: Reviews;
  /** Resolves when the database answers (for `/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens (and migrates) the storage. Fails with `master-key-mismatch` under the wrong master key. */
export async function openStorage(options: OpenStorageOptions): Promise<Storage> {
  const now = options.now ?? (() => new Date());
  await ensureDirDurable(options.dataDir);
  const db = connectDatabase({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, log: options.databaseLog });
  const locks: DataDirLock[] = [];
  try {
    // A SQLite file named outside the data dir gets its directory made the same way (before its lock is taken there).
    if (db.sqliteFile !== undefined) {
      await ensureDirDurable(dirname(db.sqliteFile));
      await createOwnerOnly(db.sqliteFile);
    }
    if (options.serve && db.dialect === 'sqlite') {
      locks.push(lockDataDir(options.dataDir));
      // A database file named outside the data dir is one process's too: two data dirs must not share it.
      const databaseDir = db.sqliteFile && db.sqliteFile !== ':memory:' ? dirname(resolve(db.sqliteFile)) : undefined;
      if (databaseDir && databaseDir !== resolve(options.dataDir)) locks.push(lockDataDir(databaseDir));
    }
  } catch (err) {
    for (const l of locks) l.release();
    await db.knex.destroy();
    throw err;
  }
  try {
    await migrateToLatest(db.knex);
    const keys = new StudyKeys(db, options.masterKey, now);
    await keys.verifyMasterKey();
    db.auditKey = deriveKey(options.masterKey, 'audit');
    const blobs = new BlobStore(join(options.dataDir, BLOB_DIR));
    await bindDataDir(db.knex, options.dataDir, blobs.root, db.sqliteFile ?? 'on PostgreSQL');
    await ensureDirDurable(blobs.root);
    const instances = new Instances(db, keys, blobs, now);
    const studies = new Studies(db, now);
    const tokens = new TokenStore(db, now);
    return {
      dialect: db.dialect,
      dataDir: options.dataDir,
      storeInstance: (input) => instances.store(input),
      getInstanceBlob: (sop) => instances.blob(sop),
      getInstance: (sop) => instances.info(sop),
      listInstances: (study, series) => instances.list(study, series),
      listStudies: (o) => studies.list(o),
      getStudy: (uid) => studies.get(uid),
      completeStableStudies: (o) => studies.completeStable(o),
      setStudyStatus: (uid, to, o) => studies.setStatus(uid, to, o),
      reprocessStudy: (uid, payload, from, audit) => studies.reprocess(uid, payload, from, audit),
      removeSeries: (study, series) => instances.removeSeries(study, series),
      publishReview: (review, effects) => publishReview(db, blobs, now(), review, effects),
      destroyStudyKey: (uid) => keys.destroy(uid),
      sweepOrphanBlobs: (o) => sweepOrphanBlobs(db, blobs, now(), o),
      // With PostgreSQL other processes may be storing: their rows in flight are left to them.
      repairUnconfirmedInstances: () => instances.repairUnconfirmed(db.dialect === 'postgres' ? { olderThanMs: UNCONFIRMED_GRACE_MS } : {}),
      vault: new Vault(db, keys, now),
      jobs: new JobQueue(db, now, options.jobs),
      tokens,
      createToken: (o) => tokens.create(o),
      verifyToken: (t) => tokens.verify(t),
      audit: new AuditLog(db, now),
      results: new Results(db, keys, blobs, now),
      reviews: new Reviews(db, now),
      ping: async () => {
        await db.knex.raw('SELECT 1');
      },
      close: async () => {
        // A clean stop leaves nothing for the repair at the next start to check.
        await instances.confirmFlushed().catch(() => undefined);
        await blobs.close();
        await db.knex.destroy();
        for (const l of locks) l.release();
      },
    };
  } catch (err) {
    await db.knex.destroy();
    for (const l of locks) l.release();
    throw err;
  }
}
