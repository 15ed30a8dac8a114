/**
 * `storage/`: the one database (embedded SQLite or PostgreSQL), the encrypted blob store, the
 * vault, study keys, the job queue, API tokens and the hash-chained audit log.
 */
export { openStorage, BLOB_DIR, type OpenStorageOptions, type Storage } from './storage.js';
export { StorageError, isStorageError, type StorageErrorCode } from './errors.js';
export { lockDataDir, DATA_DIR_LOCK_FILE, type DataDirLock } from './data-dir-lock.js';
export { loadMasterKey, loadConfiguredMasterKey, parseMasterKey, GENERATED_MASTER_KEY_FILE, type LoadMasterKeyOptions, type MasterKey } from './crypto/master-key.js';
export { SQLITE_FILE, type Dialect } from './db/index.js';
export type { StoreInstanceInput, StoreInstanceResult, InstanceInfo, InstanceBlob, RepairReport } from './instances.js';
export { UNCONFIRMED_GRACE_MS } from './instances.js';
export {
  STUDY_STATUSES,
  PROCESS_JOB,
  type StudyStatus,
  type StudySummary,
  type StudyDetail,
  type SeriesSummary,
  type StudyPage,
  type ListStudiesOptions,
  type CompleteOptions,
  type CompletedStudy,
  type ReprocessOutcome,
} from './studies.js';
export type { Vault, VaultRecord } from './vault.js';
export type { JobQueue, Job, JobStatus, EnqueueOptions, JobQueueOptions, FailOutcome, StudySettlement } from './jobs.js';
export { ROLES, TOKEN_PREFIX, tokenActor, MAX_TOKEN_TTL_SECONDS, type TokenStore, type Role, type CreateTokenOptions, type CreatedToken, type TokenIdentity, type TokenInfo } from './tokens.js';
export { canonicalJSON } from './canonical-json.js';
export { GENESIS_HASH, type AuditLog, type AuditEvent, type AuditEventInput, type AuditListOptions, type AuditVerifyResult } from './audit.js';
export type { SweepOptions, SweepReport } from './sweep.js';
export type { Results, ResultInfo } from './results.js';
export { REVIEW_STATUSES, type Reviews, type Review, type ReviewInput, type ReviewStatus, type Decision, type DecideResult } from './reviews.js';
export type { PublishEffects, PublishOutcome } from './publish.js';
