/**
 * The master key wraps every study key. Production supplies it as a file or through
 * `LIMEN_MASTER_KEY`; a first start with neither generates one into the data dir (mode 0600)
 * and tells the caller so it can warn: a key beside the data it protects protects little.
 */
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { decodeMasterKey, type MasterKeyConfig } from '../../config/index.js';
import { StorageError } from '../errors.js';
import { KEY_BYTES } from './aead.js';
import { fsyncDir } from '../fs-durable.js';

/** File name of the generated key inside the data dir. */
export const GENERATED_MASTER_KEY_FILE = 'master.key';

export interface LoadMasterKeyOptions {
  /** A key file (32 bytes as hex, base64 or raw). */
  file?: string;
  /** The value of `LIMEN_MASTER_KEY` (hex or base64); empty counts as absent. */
  envValue?: string;
  /** Where `master.key` is read from or generated into when neither of the above is given. */
  dataDir: string;
  /** Called with the path when a key was generated (first start without a configured key). */
  onGenerated?: (path: string) => void;
}

/** A loaded master key and where it came from (for a startup log line; never log the key). */
export interface MasterKey {
  key: Uint8Array;
  source: 'file' | 'env' | 'data-dir' | 'generated';
  path?: string;
  /** The key file's permission bits when others than its owner may read or write it (e.g. 0o644). */
  exposedMode?: number;
}

/** Loads (or on first start generates) the 32-byte master key. */
export async function loadMasterKey(options: LoadMasterKeyOptions): Promise<MasterKey> {
  const envValue = options.envValue?.trim() ? options.envValue : undefined;
  if (options.file !== undefined && envValue !== undefined) {
    throw new StorageError('master-key-conflict', 'both a master key file and LIMEN_MASTER_KEY are set; give exactly one', { path: options.file });
  }
  if (envValue !== undefined) {
    const key = decodeMasterKey(envValue);
    if (!key) throw new StorageError('master-key-invalid', `LIMEN_MASTER_KEY must be ${KEY_BYTES} bytes written as 64 hex digits or base64`, { path: 'LIMEN_MASTER_KEY' });
    return { key, source: 'env' };
  }
  if (options.file !== undefined) return { key: await readKeyFile(options.file), source: 'file', path: options.file };
  return generateOrRead(join(options.dataDir, GENERATED_MASTER_KEY_FILE), options.onGenerated);
}

/** Loads the master key as the resolved configuration describes it (`config.masterKey`). */
export async function loadConfiguredMasterKey(config: MasterKeyConfig, onGenerated?: (path: string) => void): Promise<MasterKey> {
  switch (config.source) {
    case 'env':
      return { key: parseMasterKey(config.key.bytes(), config.variable), source: 'env' };
    case 'file':
      return { key: await readKeyFile(config.file), source: 'file', path: config.file, ...(await exposure(config.file)) };
    case 'generated':
      return generateOrRead(config.file, onGenerated);
  }
}

async function generateOrRead(path: string, onGenerated?: (path: string) => void): Promise<MasterKey> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (await stat(path).then(() => true, (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : Promise.reject(err)))) {
    return { key: await readKeyFile(path), source: 'data-dir', path, ...(await exposure(path)) };
  }
  const fresh = randomBytes(KEY_BYTES);
  // Written whole and flushed under a temporary name, then linked into place: the key file is
  // never seen half-written (by a crash, or a CLI command started at the same moment), and of
  // two processes generating at once the first link wins and the other reads its key.
  const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  await createExclusive(temp, fresh);
  try {
    await link(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { key: await readKeyFile(path), source: 'data-dir', path };
    // A filesystem without hard links: created in place, as exclusive, if not as atomic.
    if (!NO_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    if (!(await createExclusive(path, fresh))) return { key: await readKeyFile(path), source: 'data-dir', path };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  await fsyncDir(dir);
  onGenerated?.(path);
  return { key: fresh, source: 'generated', path };
}

/** The key file's mode when others than its owner may read or write it. */
async function exposure(path: string): Promise<{ exposedMode?: number }> {
  const mode = (await stat(path)).mode & 0o777;
  return mode & 0o077 ? { exposedMode: mode } : {};
}

/** What `link` fails with where a filesystem has no hard links. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Writes and flushes `key` into a new file at `path`; false when the file exists already. */
async function createExclusive(path: string, key: Buffer): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(key.toString('hex') + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

async function readKeyFile(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new StorageError('master-key-invalid', `cannot read the master key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { path, cause: err });
  }
  return parseMasterKey(bytes, path);
}

/**
 * Reads a key file's content: exactly 32 raw bytes, or text holding 64 hex digits or base64
 * (standard or URL-safe). `origin` names the source in the error; the value is never echoed.
 */
export function parseMasterKey(bytes: Uint8Array, origin: string): Buffer {
  if (bytes.length === KEY_BYTES) return Buffer.from(bytes);
  const decoded = decodeMasterKey(Buffer.from(bytes).toString('utf8'));
  if (decoded) return Buffer.from(decoded);
  throw new StorageError('master-key-invalid', `the master key in ${origin} must be ${KEY_BYTES} bytes: 64 hex digits, base64, or the ${KEY_BYTES} bytes themselves`, { path: origin });
}
