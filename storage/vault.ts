/**
 * The vault: each instance's linkage record (original patient identity, original UIDs) sealed
 * with its study's vault key and bound to its study and SOP Instance UID. Only ciphertext
 * reaches the database. Opening is an internal API for the exporter, which re-identifies an
 * approved result; nothing in the core zone calls it.
 */
import { seal, unseal } from './crypto/aead.js';
import type { Database } from './db/index.js';
import { sqlTransaction, type Sql } from './db/sql.js';
import { StorageError } from './errors.js';
import type { StudyKey, StudyKeys } from './keys.js';
import { isUID } from './uid.js';

/** One opened linkage record. */
export interface VaultRecord {
  sopInstanceUID: string;
  record: unknown;
}

/** Seals a record inside a transaction (the instance commit's); replaces an earlier record for the same instance. */
export async function sealRecord(sql: Sql, key: StudyKey, sopInstanceUID: string, record: unknown, now: Date): Promise<void> {
  const text = JSON.stringify(record);
  if (text === undefined) throw new StorageError('invalid-input', 'a linkage record must be JSON', { path: 'linkage' });
  const sealed = seal(key.vaultKey, Buffer.from(text, 'utf8'), vaultContext(key.studyInstanceUID, sopInstanceUID));
  await sql.run(
    'INSERT INTO vault_records (sop_instance_uid, study_instance_uid, sealed, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (sop_instance_uid) DO UPDATE SET sealed = excluded.sealed, created_at = excluded.created_at',
    [sopInstanceUID, key.studyInstanceUID, sealed, now.getTime()],
  );
}

/** Seals and opens linkage records. */
export class Vault {
  constructor(
    private readonly db: Database,
    private readonly keys: StudyKeys,
    private readonly now: () => Date,
  ) {}

  /** Seals `record` for an instance of an existing study. */
  async seal(studyInstanceUID: string, sopInstanceUID: string, record: unknown): Promise<void> {
    if (!isUID(studyInstanceUID) || !isUID(sopInstanceUID)) throw new StorageError('invalid-input', 'vault records are keyed by valid UIDs', { path: 'sopInstanceUID' });
    await sqlTransaction(this.db, async (sql) => {
      const existing = await sql.first('SELECT study_instance_uid FROM vault_records WHERE sop_instance_uid = ?', [sopInstanceUID]);
      if (existing && existing.study_instance_uid !== studyInstanceUID) throw new StorageError('uid-conflict', 'this instance is sealed under another study', { path: sopInstanceUID });
      await sealRecord(sql, await this.keys.load(sql, studyInstanceUID), sopInstanceUID, record, this.now());
    });
  }

  /** Opens every linkage record of a study; throws `vault-corrupt` or `study-key-destroyed` rather than return a partial set. */
  async open(studyInstanceUID: string): Promise<VaultRecord[]> {
    const rows = await this.db.knex('vault_records').where({ study_instance_uid: studyInstanceUID }).orderBy('sop_instance_uid').select('sop_instance_uid', 'sealed');
    if (rows.length === 0) return [];
    const key = await this.keys.get(this.db.knex, studyInstanceUID);
    return rows.map((row) => {
      const sop = String(row.sop_instance_uid);
      const plain = unseal(key.vaultKey, row.sealed as Buffer, vaultContext(studyInstanceUID, sop));
      if (!plain) throw new StorageError('vault-corrupt', 'a vault record failed authentication', { path: sop });
      return { sopInstanceUID: sop, record: JSON.parse(plain.toString('utf8')) as unknown };
    });
  }
}

function vaultContext(studyInstanceUID: string, sopInstanceUID: string): string {
  return `limen vault ${studyInstanceUID} ${sopInstanceUID}`;
}
