/**
 * The pipeline's result files of a study (the GLB, the STL files, the report), encrypted with the
 * study's key like its instances, so crypto-shredding the study destroys them too.
 */
import { createHash } from 'node:crypto';
import type { BlobStore } from './blobs.js';
import type { Database } from './db/index.js';
import { writeTransaction } from './db/transaction.js';
import { dateOrNull, num } from './db/rows.js';
import { StorageError } from './errors.js';
import type { StudyKeys } from './keys.js';

export interface ResultInfo {
  studyInstanceUID: string;
  /** A file name within the study's results, e.g. `model.glb`, `bone.stl`, `report.json`. */
  name: string;
  mediaType: string;
  sha256: string;
  sizeBytes: number;
  createdAt: Date;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class Results {
  constructor(
    private readonly db: Database,
    private readonly keys: StudyKeys,
    private readonly blobs: BlobStore,
    private readonly now: () => Date,
  ) {}

  /** Stores (or replaces) one result file durably; returns its SHA-256. */
  async put(studyInstanceUID: string, name: string, mediaType: string, bytes: Uint8Array): Promise<ResultInfo> {
    if (!NAME.test(name)) throw new StorageError('invalid-input', 'a result name is a plain file name', { path: name });
    const key = await this.keys.get(this.db.knex, studyInstanceUID);
    const relPath = await this.blobs.write(key.blobKey, studyInstanceUID, `result:${name}`, bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const t = this.now().getTime();
    const previous = await writeTransaction(this.db, async (trx) => {
      const old = await trx('results').where({ study_instance_uid: studyInstanceUID, name }).first('blob_path');
      await trx('results').where({ study_instance_uid: studyInstanceUID, name }).delete();
      await trx('results').insert({ study_instance_uid: studyInstanceUID, name, media_type: mediaType, blob_path: relPath, sha256, size_bytes: bytes.length, created_at: t });
      return old?.blob_path as string | undefined;
    });
    if (previous) await this.blobs.remove(previous);
    return { studyInstanceUID, name, mediaType, sha256, sizeBytes: bytes.length, createdAt: new Date(t) };
  }

  async list(studyInstanceUID: string): Promise<ResultInfo[]> {
    const rows = await this.db.knex('results').where({ study_instance_uid: studyInstanceUID }).orderBy('name');
    return rows.map(toInfo);
  }

  /** Removes the study's results not named in `keep` (what an earlier run made and this one did not); returns their names. */
  async removeExcept(studyInstanceUID: string, keep: readonly string[]): Promise<string[]> {
    const gone = await writeTransaction(this.db, async (trx) => {
      const rows = await trx('results').where({ study_instance_uid: studyInstanceUID }).whereNotIn('name', [...keep]).select('name', 'blob_path');
      if (rows.length) await trx('results').where({ study_instance_uid: studyInstanceUID }).whereIn('name', rows.map((r) => r.name)).delete();
      return rows;
    });
    for (const r of gone) await this.blobs.remove(String(r.blob_path));
    return gone.map((r) => String(r.name));
  }

  /** The decrypted file, or null when the study has no such result. */
  async get(studyInstanceUID: string, name: string): Promise<{ info: ResultInfo; bytes: Buffer } | null> {
    const row = await this.db.knex('results').where({ study_instance_uid: studyInstanceUID, name }).first();
    if (!row) return null;
    const key = await this.keys.get(this.db.knex, studyInstanceUID);
    const bytes = await this.blobs.read(key.blobKey, String(row.blob_path), `result:${name}`);
    return { info: toInfo(row), bytes };
  }
}

function toInfo(row: Record<string, unknown>): ResultInfo {
  return {
    studyInstanceUID: String(row.study_instance_uid),
    name: String(row.name),
    mediaType: String(row.media_type),
    sha256: String(row.sha256),
    sizeBytes: num(row.size_bytes),
    createdAt: dateOrNull(row.created_at) ?? new Date(0),
  };
}
