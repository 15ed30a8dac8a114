/**
 * Storage errors are data: a stable `code` callers branch on (the edge maps them to DIMSE and
 * STOW-RS statuses), an optional pseudonymous `path` (a blob path, a table, a setting) and a
 * message that never carries identified values.
 */
export type StorageErrorCode =
  /** The caller passed something malformed (a UID that is not a UID, empty bytes...). */
  | 'invalid-input'
  /** A UID already exists under a different parent (an instance in another study...). */
  | 'uid-conflict'
  /** A blob failed authentication: tampered, truncated, swapped or under the wrong key. */
  | 'blob-corrupt'
  /** The instance row exists but its blob file does not. */
  | 'blob-missing'
  /** Writing a blob durably failed (disk full, I/O error): the sender may retry. */
  | 'blob-write-failed'
  /** A vault record failed authentication. */
  | 'vault-corrupt'
  /** The study's key was destroyed (crypto-shredding): its blobs and vault are gone for good. */
  | 'study-key-destroyed'
  /** A wrapped study key could not be unwrapped with the master key. */
  | 'key-unwrap-failed'
  /** The master key is malformed (not 32 bytes of hex, base64 or raw). */
  | 'master-key-invalid'
  /** Both a key file and `LIMEN_MASTER_KEY` were given. */
  | 'master-key-conflict'
  /** The database was created under a different master key. */
  | 'master-key-mismatch'
  /** The named study (or record) does not exist. */
  | 'not-found'
  /** Another process serves this data directory (embedded SQLite has one serving process). */
  | 'data-dir-locked'
  /** The data directory's blobs belong to another database than the one configured. */
  | 'data-dir-mismatch'
  /** A worker no longer holds the job whose result it would record (cut off and handed back). */
  | 'job-lost';

/** An error raised by `storage/`. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly path?: string;

  constructor(code: StorageErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.path !== undefined) this.path = options.path;
  }
}

/** True when `err` is a StorageError, optionally with the given code. */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
