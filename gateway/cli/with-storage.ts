/**
 * Opening the configured storage for a one-shot command, and closing it whatever happens.
 *
 * Only a command an operator runs before the first start (`token create`) may set up a new
 * database, and with it generate the development master key. Any other command on a data
 * directory without a database says so and leaves the directory as it found it; and no command
 * generates a master key beside a database that already exists (that database was created under
 * another key, which the configuration does not name).
 */
import { existsSync } from 'node:fs';
import type { LimenConfig } from '../../config/index.js';
import { connectDatabase, MIGRATIONS_TABLE } from '../../storage/db/index.js';
import { isStorageError, loadConfiguredMasterKey, loadMasterKey, openStorage, type MasterKey, type Storage } from '../../storage/index.js';
import { CommandError } from './command.js';

/** Failures to open (no database, no or the wrong master key) are `CommandError`s with exit code 2. */
export interface WithStorageOptions {
  /** The command as typed (`audit verify`), to name it in errors. */
  command?: string;
  /**
   * May the command create the database (and generate the development master key) when there is
   * none yet? Default true, for `token create`; read-only commands pass false.
   */
  create?: boolean;
}

export async function withStorage<T>(config: LimenConfig, fn: (storage: Storage) => Promise<T>, options: WithStorageOptions = {}): Promise<T> {
  const who = options.command ? `limen ${options.command}` : 'limen';
  const database = describeDatabase(config);
  const exists = await databaseExists(config);
  if (!exists && options.create === false) {
    throw new CommandError(
      `${who}: no Limen database at ${database}; point LIMEN_DATA_DIR (or the configuration's dataDir or database.url, with --config or LIMEN_CONFIG) at the gateway's data (limen start creates it)`,
      2,
    );
  }
  const master = await masterKey(config, who, exists);
  let storage: Storage;
  try {
    storage = await openStorage({ dataDir: config.dataDir, databaseUrl: databaseUrl(config), masterKey: master.key });
  } catch (err) {
    if (isStorageError(err, 'master-key-mismatch')) {
      throw new CommandError(`${who}: the database at ${database} was created under a different master key than ${keySource(config)}; give the one it was created with (masterKey.file, LIMEN_MASTER_KEY_FILE or LIMEN_MASTER_KEY)`, 2);
    }
    throw err;
  }
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

/** What `openStorage` is given, as `limen start` gives it. */
const databaseUrl = (config: LimenConfig): string => config.database.url;

/** Where the database is, for messages: the SQLite file, or the PostgreSQL URL without its password. */
export function describeDatabase(config: LimenConfig): string {
  if (config.database.kind === 'sqlite') return config.database.filename;
  const url = config.database.url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured PostgreSQL database';
  }
}

/** Whether Limen has set up its database there, checked without creating anything. */
export async function databaseExists(config: LimenConfig): Promise<boolean> {
  if (config.database.kind === 'sqlite') return config.database.filename !== ':memory:' && existsSync(config.database.filename);
  const db = connectDatabase({ dataDir: config.dataDir, databaseUrl: config.database.url });
  try {
    return await db.knex.schema.hasTable(MIGRATIONS_TABLE);
  } finally {
    await db.knex.destroy();
  }
}

/** The configured master key; generated only for a database about to be created. */
async function masterKey(config: LimenConfig, who: string, databaseExists: boolean): Promise<MasterKey> {
  const key = config.masterKey;
  if (key.source !== 'generated' || !databaseExists) {
    return loadConfiguredMasterKey(key, (path) => process.stderr.write(`warning: generated a development master key in ${path}\n`));
  }
  if (!existsSync(key.file)) {
    throw new CommandError(
      `${who}: no master key for the database at ${describeDatabase(config)}: ${key.file} does not exist and neither masterKey.file, LIMEN_MASTER_KEY_FILE nor LIMEN_MASTER_KEY is set; give the key it was created with`,
      2,
    );
  }
  // Read as a key file: never generated here.
  return loadMasterKey({ file: key.file, dataDir: config.dataDir });
}

function keySource(config: LimenConfig): string {
  const key = config.masterKey;
  return key.source === 'env' ? key.variable : `the key in ${key.file}`;
}
