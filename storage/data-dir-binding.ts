/**
 * A data directory's blobs belong to one database. Both carry the same store id (a file in the
 * data dir, a row in `settings`), written at their first open together. The blobs a database does
 * not list are garbage to it (the orphan sweep removes them at start), so a data dir opened with
 * another database, a new empty one included (a `database.url` or a `LIMEN_DATA_DIR` changed, a
 * configuration moved), would lose every study it holds: such an open is refused, and the blobs
 * are left as they are.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { StorageError } from './errors.js';
import { fsyncDir, TEMP_PREFIX } from './fs-durable.js';

/** The data dir's copy of the store id. */
export const STORE_ID_FILE = 'store.id';
const STORE_ID_SETTING = 'store_id';

export async function bindDataDir(knex: Knex, dataDir: string, blobRoot: string, database: string): Promise<void> {
  const file = join(dataDir, STORE_ID_FILE);
  const fileId = (existsSync(file) && readFileSync(file, 'utf8').trim()) || undefined;
  const dbId = await storedId(knex);
  // One side without its id: a first open of the two together (or one cut short by a crash), or
  // a new database on a data dir that has blobs. Only the database's knowing them tells.
  const mismatch = fileId !== undefined && dbId !== undefined ? fileId !== dbId : fileId !== dbId && !(await knowsBlobs(knex, blobRoot));
  if (mismatch) {
    throw new StorageError(
      'data-dir-mismatch',
      `the data dir ${dataDir} holds the blobs of ${fileId ? `store ${fileId}` : 'a store that predates store ids'}, and the database ${database} is ${dbId ? `store ${dbId}` : 'a new one'}: ` +
        'point database.url (LIMEN_DATABASE_URL) at the data dir\'s own database, or LIMEN_DATA_DIR at this database\'s data dir; the blobs were left as they are',
      { path: dataDir },
    );
  }
  if (dbId === undefined) await knex('settings').insert({ key: STORE_ID_SETTING, value: fileId ?? randomUUID() }).onConflict('key').ignore();
  if (fileId === undefined) {
    // The id the database kept: processes starting together on PostgreSQL all write that one.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, `${await storedId(knex)}\n`, { mode: 0o600 });
    renameSync(temp, file);
    await fsyncDir(dataDir);
  }
}

async function storedId(knex: Knex): Promise<string | undefined> {
  return ((await knex('settings').where({ key: STORE_ID_SETTING }).first('value')) as { value?: string } | undefined)?.value;
}

/** Blobs looked up to tell whether the database knows the data dir's. */
const SAMPLE = 50;

/** Whether the blob store is empty, or the database lists one of its first blobs (orphans of a crash are few). */
async function knowsBlobs(knex: Knex, blobRoot: string): Promise<boolean> {
  if (!existsSync(blobRoot)) return true;
  const sample: string[] = [];
  for (const d of readdirSync(blobRoot, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(join(blobRoot, d.name))) if (!f.startsWith(TEMP_PREFIX) && sample.length < SAMPLE) sample.push(`${d.name}/${f}`);
    if (sample.length >= SAMPLE) break;
  }
  if (sample.length === 0) return true;
  for (const table of ['instances', 'results']) if ((await knex(table).whereIn('blob_path', sample).first('blob_path')) !== undefined) return true;
  return false;
}
