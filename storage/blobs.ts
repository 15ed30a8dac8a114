/**
 * Encrypted blob files under `<dataDir>/blobs/<studyInstanceUID>/<random id>.blob`. Paths hold
 * only the pseudonymous study UID and a random id. Each file is
 *
 *   magic "LMNB" ‖ version 1 ‖ algorithm 1 (AES-256-GCM) ‖ 2 reserved ‖ nonce(12) ‖ ciphertext ‖ tag(16)
 *
 * and the header, the file's own relative path and the id of what it holds (`bind`, e.g. the
 * SOP Instance UID) are authenticated, so a blob copied over another, or a row pointed at
 * another blob, fails to open instead of serving the wrong data.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NONCE_BYTES, TAG_BYTES, decrypt, encryptChunks } from './crypto/aead.js';
import { pooledRandomBytes } from './crypto/random.js';
import { StorageError } from './errors.js';
import { DirectorySyncs, TEMP_PREFIX, TempFiles, ensureDirDurable, flushPath, fsyncDir, writeNewFile, type WrittenFile } from './fs-durable.js';

const MAGIC = Buffer.from('LMNB', 'ascii');
const VERSION = 1;
const ALG_AES_256_GCM = 1;
/** Size of the authenticated header. */
export const BLOB_HEADER_BYTES = MAGIC.length + 4 + NONCE_BYTES;

/** Plaintext encrypted at a time: pieces of ciphertext, written together, never joined. */
const ENCRYPT_CHUNK_BYTES = 128 * 1024;

const DIR_PATTERN = /^[0-9A-Za-z.-]{1,64}$/;
const FILE_PATTERN = /^[0-9a-f]{32}\.blob$/;

/** A file found under the blob root, for sweeping. */
export interface BlobEntry {
  relPath: string;
  dir: string;
  /** True for an unfinished write's temporary file. */
  temp: boolean;
  modifiedAt: Date;
}

/** Encrypted, durable, tamper-evident files under one root directory. */
export class BlobStore {
  /**
   * Each directory's creation, made durable once per process and shared by the writes that
   * arrive meanwhile: a write into a new study directory is not answered before its entry is.
   */
  private readonly dirs = new Map<string, Promise<void>>();
  /** Concurrent writes into one study directory share its fsyncs. */
  private readonly directories = new DirectorySyncs();
  /** Temporary files opened ahead, so a write never waits for a file to be created. */
  private readonly temps = new TempFiles();

  constructor(readonly root: string) {}

  /**
   * Encrypts and durably writes `bytes` into `dir`; returns the new blob's relative path once its
   * content and name are on disk. Publish it (commit a row) only after this resolves.
   */
  async write(key: Uint8Array, dir: string, bind: string, bytes: Uint8Array): Promise<string> {
    const { relPath, flushed } = await this.writeUnflushed(key, dir, bind, bytes);
    try {
      await flushed;
    } catch (err) {
      await this.remove(relPath);
      throw err;
    }
    return relPath;
  }

  /**
   * Like `write`, resolved as soon as the blob is completely written under its final name, with
   * its flushes still running (`flushed`, which rejects with a `blob-write-failed`). For a caller
   * that records the blob meanwhile and confirms it only once flushed.
   */
  async writeUnflushed(key: Uint8Array, dir: string, bind: string, bytes: Uint8Array): Promise<{ relPath: string; flushed: Promise<void> }> {
    if (!DIR_PATTERN.test(dir)) throw new StorageError('invalid-input', 'a blob directory must be a UID-like name', { path: dir });
    const relPath = `${dir}/${pooledRandomBytes(16).toString('hex')}.blob`;
    const header = Buffer.alloc(BLOB_HEADER_BYTES);
    MAGIC.copy(header, 0);
    header[4] = VERSION;
    header[5] = ALG_AES_256_GCM;
    const nonce = pooledRandomBytes(NONCE_BYTES);
    nonce.copy(header, 8);
    const failed = (err: unknown) => new StorageError('blob-write-failed', `writing a blob failed: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { path: relPath, cause: err });
    let written: WrittenFile;
    try {
      const pieces = [header, ...encryptChunks(key, nonce, bytes, aad(header, relPath, bind), ENCRYPT_CHUNK_BYTES)];
      await this.ensureDir(dir);
      try {
        written = await writeNewFile(join(this.root, relPath), pieces, this.directories, this.temps);
      } catch (err) {
        // The directory went away under us (removed by another process): make it again, once.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.dirs.delete(dir);
        await this.ensureDir(dir);
        written = await writeNewFile(join(this.root, relPath), pieces, this.directories, this.temps);
      }
    } catch (err) {
      throw failed(err);
    }
    const flushed = written.flushed.catch((err) => {
      throw failed(err);
    });
    flushed.catch(() => undefined);
    return { relPath, flushed };
  }

  private ensureDir(dir: string): Promise<void> {
    let ensured = this.dirs.get(dir);
    if (!ensured) {
      ensured = ensureDirDurable(join(this.root, dir), 0o700, { syncParent: true });
      this.dirs.set(dir, ensured);
      ensured.catch(() => this.dirs.get(dir) === ensured && this.dirs.delete(dir));
    }
    return ensured;
  }

  /** Reads and authenticates a blob; `blob-corrupt` when it does not authenticate, never the bytes. */
  async read(key: Uint8Array, relPath: string, bind: string): Promise<Buffer> {
    const [dir, file, ...rest] = relPath.split('/');
    if (rest.length > 0 || !dir || !file || !DIR_PATTERN.test(dir) || !FILE_PATTERN.test(file)) {
      throw new StorageError('blob-corrupt', 'not a blob path', { path: relPath });
    }
    let data: Buffer;
    try {
      data = await readFile(join(this.root, relPath));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StorageError('blob-missing', 'the blob file is missing', { path: relPath, cause: err });
      throw err;
    }
    if (data.length < BLOB_HEADER_BYTES + TAG_BYTES || !data.subarray(0, 4).equals(MAGIC) || data[4] !== VERSION || data[5] !== ALG_AES_256_GCM) {
      throw new StorageError('blob-corrupt', 'the blob header is not a Limen blob header', { path: relPath });
    }
    const header = data.subarray(0, BLOB_HEADER_BYTES);
    const plain = decrypt(key, header.subarray(8, 8 + NONCE_BYTES), data.subarray(BLOB_HEADER_BYTES), aad(header, relPath, bind));
    if (!plain) throw new StorageError('blob-corrupt', 'the blob failed authentication', { path: relPath });
    return plain;
  }

  /** Flushes a written blob and its directory entry to disk; `blob-missing` when it is not there. */
  async flush(relPath: string): Promise<void> {
    const path = join(this.root, relPath);
    if (!(await flushPath(path, 'data'))) throw new StorageError('blob-missing', 'the blob file is missing', { path: relPath });
    await fsyncDir(dirname(path));
  }

  /** Removes a blob (no error when already gone). */
  async remove(relPath: string): Promise<void> {
    await rm(join(this.root, relPath), { force: true });
  }

  /** Removes a directory and every blob in it (a study's, once its rows are gone). */
  async removeDir(dir: string): Promise<void> {
    if (!DIR_PATTERN.test(dir)) throw new StorageError('invalid-input', 'a blob directory must be a UID-like name', { path: dir });
    this.dirs.delete(dir);
    await this.temps.discard(dir);
    await rm(join(this.root, dir), { recursive: true, force: true });
  }

  /** Removes the temporary files kept ready; later writes create theirs in place. */
  async close(): Promise<void> {
    await this.temps.close();
  }

  /** Lists every file under the root, blob or temporary, with its modification time. */
  async list(): Promise<BlobEntry[]> {
    const entries: BlobEntry[] = [];
    for (const dir of await readdirOrEmpty(this.root)) {
      if (!DIR_PATTERN.test(dir)) continue;
      for (const file of await readdirOrEmpty(join(this.root, dir))) {
        const temp = file.startsWith(TEMP_PREFIX);
        if (!temp && !FILE_PATTERN.test(file)) continue;
        const info = await stat(join(this.root, dir, file)).catch(() => null);
        if (info?.isFile()) entries.push({ relPath: `${dir}/${file}`, dir, temp, modifiedAt: info.mtime });
      }
    }
    return entries;
  }
}

function aad(header: Buffer, relPath: string, bind: string): Buffer {
  return Buffer.concat([header, Buffer.from(`limen blob|${relPath}|${bind}`, 'utf8')]);
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
