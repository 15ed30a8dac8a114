/**
 * Study keys: one random AES-256 data key per study, stored only wrapped (AES-256-GCM) by
 * the master key and bound to its study, so a wrapped key moved to another study's row does
 * not unwrap. Destroying the wrapped key is crypto-shredding: every blob and vault record of
 * the study, wherever copied, becomes unreadable.
 */
import type { Knex } from 'knex';
import { deriveKey, randomKey, seal, unseal } from './crypto/aead.js';
import type { Database } from './db/index.js';
import type { Sql } from './db/sql.js';
import { StorageError } from './errors.js';

/** The per-purpose subkeys of one study's data key. */
export interface StudyKey {
  studyInstanceUID: string;
  blobKey: Buffer;
  vaultKey: Buffer;
}

const CHECK_SETTING = 'master_key_check';
/** Studies whose unwrapped keys are kept: the few receiving at once, not every study. */
const UNWRAPPED_CACHE_SIZE = 32;
const CHECK_PLAINTEXT = Buffer.from('limen master key check', 'utf8');

/** Wraps, unwraps and destroys study keys under one master key. */
export class StudyKeys {
  private readonly wrapKey: Buffer;
  private readonly checkKey: Buffer;
  /** Recently unwrapped keys (most recent last), by study, with the wrapped bytes they came from. */
  private readonly unwrapped = new Map<string, { wrapped: Buffer; key: StudyKey }>();

  constructor(
    private readonly db: Database,
    masterKey: Uint8Array,
    private readonly now: () => Date,
  ) {
    if (masterKey.length !== 32) throw new StorageError('master-key-invalid', 'the master key must be 32 bytes');
    this.wrapKey = deriveKey(masterKey, 'key-wrap');
    this.checkKey = deriveKey(masterKey, 'key-check');
  }

  /**
   * Fails fast with `master-key-mismatch` when the database was set up under another master
   * key; the first start records a check value.
   */
  async verifyMasterKey(): Promise<void> {
    const sealed = seal(this.checkKey, CHECK_PLAINTEXT, CHECK_SETTING).toString('base64');
    await this.db.knex('settings').insert({ key: CHECK_SETTING, value: sealed }).onConflict('key').ignore();
    const row = await this.db.knex('settings').where({ key: CHECK_SETTING }).first('value');
    const opened = unseal(this.checkKey, Buffer.from(String(row.value), 'base64'), CHECK_SETTING);
    if (!opened || !opened.equals(CHECK_PLAINTEXT)) {
      throw new StorageError('master-key-mismatch', 'the database was created under a different master key; refusing to start', { path: 'settings.master_key_check' });
    }
  }

  /** Creates the study's key row inside `trx` when missing (the study row must exist). */
  async ensure(trx: Knex.Transaction, studyInstanceUID: string): Promise<void> {
    await trx('study_keys')
      .insert({ study_instance_uid: studyInstanceUID, wrapped_key: this.wrap(studyInstanceUID, randomKey()), created_at: this.now().getTime() })
      .onConflict('study_instance_uid')
      .ignore();
  }

  /**
   * Loads and unwraps a study's key. The row is read every time (a destroyed or replaced key is
   * seen at once, from any process); only the unwrapping and derivation are skipped when the
   * wrapped bytes are the ones unwrapped last time.
   */
  async get(q: Knex | Knex.Transaction, studyInstanceUID: string): Promise<StudyKey> {
    return this.fromRow(studyInstanceUID, await q('study_keys').where({ study_instance_uid: studyInstanceUID }).first('wrapped_key'));
  }

  /** `get` in plain SQL, for the store path (see `db/sql.ts`). */
  async load(sql: Sql, studyInstanceUID: string): Promise<StudyKey> {
    return this.fromRow(studyInstanceUID, await sql.first('SELECT wrapped_key FROM study_keys WHERE study_instance_uid = ?', [studyInstanceUID]));
  }

  private fromRow(studyInstanceUID: string, row: Record<string, unknown> | undefined): StudyKey {
    if (!row) throw new StorageError('not-found', 'no key for this study', { path: studyInstanceUID });
    if (row.wrapped_key === null) {
      this.unwrapped.delete(studyInstanceUID);
      throw new StorageError('study-key-destroyed', 'the study key was destroyed; its data is unreadable', { path: studyInstanceUID });
    }
    const wrapped = row.wrapped_key as Buffer;
    const hit = this.unwrapped.get(studyInstanceUID);
    if (hit && hit.wrapped.equals(wrapped)) {
      this.unwrapped.delete(studyInstanceUID);
      this.unwrapped.set(studyInstanceUID, hit);
      return hit.key;
    }
    const dataKey = unseal(this.wrapKey, wrapped, wrapContext(studyInstanceUID));
    if (!dataKey) throw new StorageError('key-unwrap-failed', 'the study key does not unwrap under this master key', { path: studyInstanceUID });
    const key = { studyInstanceUID, blobKey: deriveKey(dataKey, 'blob'), vaultKey: deriveKey(dataKey, 'vault') };
    dataKey.fill(0);
    this.unwrapped.set(studyInstanceUID, { wrapped: Buffer.from(wrapped), key });
    if (this.unwrapped.size > UNWRAPPED_CACHE_SIZE) this.unwrapped.delete(this.unwrapped.keys().next().value as string);
    return key;
  }

  /**
   * Destroys the study's key. Returns false when there was none left to destroy. On SQLite the
   * WAL is checkpointed and truncated so the old row version does not linger in the -wal file.
   */
  async destroy(studyInstanceUID: string): Promise<boolean> {
    this.unwrapped.delete(studyInstanceUID);
    const changed = await this.db
      .knex('study_keys')
      .where({ study_instance_uid: studyInstanceUID })
      .whereNotNull('wrapped_key')
      .update({ wrapped_key: null, destroyed_at: this.now().getTime() });
    if (this.db.dialect === 'sqlite') await this.db.knex.raw('PRAGMA wal_checkpoint(TRUNCATE)');
    return Number(changed) > 0;
  }

  private wrap(studyInstanceUID: string, dataKey: Buffer): Buffer {
    return seal(this.wrapKey, dataKey, wrapContext(studyInstanceUID));
  }
}

function wrapContext(studyInstanceUID: string): string {
  return `limen study-key ${studyInstanceUID}`;
}
