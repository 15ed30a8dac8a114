import { expect } from 'chai';
import { closeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '../../storage/blobs.js';
import { DirectorySyncs, TEMP_PREFIX, TempFiles, writeNewFile } from '../../storage/fs-durable.js';
import { spyOnFlushes } from '../support/fs-flushes.js';

/** Writes and waits for both flushes, as a publishing caller does. */
async function writeNewFileDurable(...args: Parameters<typeof writeNewFile>): Promise<void> {
  await (await writeNewFile(...args)).flushed;
}

describe('storage: durable file writes', () => {
  let dir: string;
  let temps: TempFiles;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'limen-fs-'));
    temps = new TempFiles();
  });
  afterEach(async () => {
    await temps.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes every chunk under the final name, owner-only, and leaves no temporary file', async () => {
    const chunks = [Buffer.from('head|'), Buffer.alloc(300_000, 7), Buffer.from('|tail')];
    await writeNewFileDurable(join(dir, 'a.blob'), chunks, new DirectorySyncs(), temps);
    await temps.close();
    expect(readdirSync(dir)).to.deep.equal(['a.blob']);
    expect(readFileSync(join(dir, 'a.blob')).equals(Buffer.concat(chunks))).to.equal(true);
    expect(statSync(join(dir, 'a.blob')).mode & 0o777).to.equal(0o600);
  });

  it('many concurrent writes into one directory (sharing its fsyncs) all land, whole', async () => {
    const syncs = new DirectorySyncs();
    const files = Array.from({ length: 30 }, (_, i) => ({ name: `${String(i).padStart(2, '0')}.blob`, bytes: Buffer.alloc(50_000 + i, i) }));
    await Promise.all(files.map((f) => writeNewFileDurable(join(dir, f.name), [f.bytes], syncs, temps)));
    await temps.close();
    expect(readdirSync(dir).sort()).to.deep.equal(files.map((f) => f.name));
    for (const f of files) expect(readFileSync(join(dir, f.name)).equals(f.bytes)).to.equal(true);
    expect(readdirSync(dir).filter((n) => n.startsWith(TEMP_PREFIX))).to.deep.equal([]);
  });

  it('fails without leaving anything when the directory is gone', async () => {
    const missing = join(dir, 'gone');
    const err = await writeNewFileDurable(join(missing, 'a.blob'), [Buffer.from('x')], new DirectorySyncs(), temps).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).to.equal('ENOENT');
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  describe('TempFiles (files opened ahead of writes)', () => {
    const names = (): string[] => readdirSync(dir).sort();

    it('keeps a spare ready after a write, hands it to the next one, and removes spares on close', async () => {
      const first = await temps.take(dir);
      closeSync(first.fd);
      rmSync(first.path);
      await new Promise((r) => setTimeout(r, 50));
      const spares = names();
      expect(spares).to.have.length(1);
      expect(spares[0].startsWith(TEMP_PREFIX)).to.equal(true);
      const second = await temps.take(dir);
      expect(second.path).to.equal(join(dir, spares[0]));
      closeSync(second.fd);
      rmSync(second.path);
      await temps.close();
      expect(names()).to.deep.equal([]);
    });

    it('serves concurrent writes with distinct files and keeps a single spare', async () => {
      const taken = await Promise.all(Array.from({ length: 6 }, () => temps.take(dir)));
      expect(new Set(taken.map((t) => t.path)).size).to.equal(6);
      for (const t of taken) {
        closeSync(t.fd);
        rmSync(t.path);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(names()).to.have.length(1);
    });

    it('discards the spares of a directory (before the directory is removed)', async () => {
      const t = await temps.take(dir);
      closeSync(t.fd);
      rmSync(t.path);
      await temps.discard(dir);
      expect(names()).to.deep.equal([]);
      const fresh = await temps.take(dir);
      expect(fresh.path.startsWith(join(dir, TEMP_PREFIX))).to.equal(true);
      closeSync(fresh.fd);
      rmSync(fresh.path);
    });

    it('a write into a directory removed since its spare was made fails with ENOENT, and the next one succeeds', async () => {
      const gone = join(dir, 'gone');
      const syncs = new DirectorySyncs();
      mkdirSync(gone);
      await writeNewFileDurable(join(gone, 'a.blob'), [Buffer.from('a')], syncs, temps);
      rmSync(gone, { recursive: true, force: true });
      const err = await writeNewFileDurable(join(gone, 'b.blob'), [Buffer.from('b')], syncs, temps).then(
        () => null,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(err?.code).to.equal('ENOENT');
      mkdirSync(gone);
      await writeNewFileDurable(join(gone, 'c.blob'), [Buffer.from('c')], syncs, temps);
      expect(readFileSync(join(gone, 'c.blob'), 'utf8')).to.equal('c');
    });
  });
});

describe('storage: DirectorySyncs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'limen-fs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('forgets a directory once nothing waits on it (no growth over many study directories)', async () => {
    const syncs = new DirectorySyncs();
    await Promise.all([syncs.sync(dir), syncs.sync(dir), syncs.sync(dir)]);
    expect((syncs as unknown as { groups: Map<string, unknown> }).groups.size).to.equal(0);
  });

  it('rejects for a directory that does not exist', async () => {
    const err = await new DirectorySyncs().sync(join(dir, 'nope')).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).to.equal('ENOENT');
  });

  it("concurrent first blobs of a study are answered only once the study directory's entry is on disk", async () => {
    const blobs = new BlobStore(dir);
    // The first writer creates the directory and syncs its parent; held back, that sync must hold back both.
    const spy = spyOnFlushes({ delayMs: (path) => (path === dir ? 300 : 0) });
    const parentSynced: boolean[] = [];
    try {
      await Promise.all(
        [1, 2].map(async (i) => {
          await blobs.write(Buffer.alloc(32, 1), '1.2.3.4', `1.2.3.4.${i}`, Buffer.alloc(1000, i));
          parentSynced.push(spy.flushes.some((f) => f.path === dir && f.kind === 'fsync' && f.ended));
        }),
      );
    } finally {
      spy.restore();
      await blobs.close();
    }
    expect(parentSynced).to.deep.equal([true, true]);
  });
});
