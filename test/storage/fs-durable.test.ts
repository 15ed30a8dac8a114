import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectorySyncs, TEMP_PREFIX, writeNewFileDurable } from '../../storage/fs-durable.js';

describe('storage: durable file writes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'limen-fs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every chunk under the final name, owner-only, and leaves no temporary file', async () => {
    const chunks = [Buffer.from('head|'), Buffer.alloc(300_000, 7), Buffer.from('|tail')];
    await writeNewFileDurable(join(dir, 'a.blob'), chunks, new DirectorySyncs());
    expect(readdirSync(dir)).to.deep.equal(['a.blob']);
    expect(readFileSync(join(dir, 'a.blob')).equals(Buffer.concat(chunks))).to.equal(true);
    expect(statSync(join(dir, 'a.blob')).mode & 0o777).to.equal(0o600);
  });

  it('many concurrent writes into one directory (sharing its fsyncs) all land, whole', async () => {
    const syncs = new DirectorySyncs();
    const files = Array.from({ length: 30 }, (_, i) => ({ name: `${String(i).padStart(2, '0')}.blob`, bytes: Buffer.alloc(50_000 + i, i) }));
    await Promise.all(files.map((f) => writeNewFileDurable(join(dir, f.name), [f.bytes], syncs)));
    expect(readdirSync(dir).sort()).to.deep.equal(files.map((f) => f.name));
    for (const f of files) expect(readFileSync(join(dir, f.name)).equals(f.bytes)).to.equal(true);
    expect(readdirSync(dir).filter((n) => n.startsWith(TEMP_PREFIX))).to.deep.equal([]);
  });

  it('fails without leaving anything when the directory is gone', async () => {
    const missing = join(dir, 'gone');
    const err = await writeNewFileDurable(join(missing, 'a.blob'), [Buffer.from('x')], new DirectorySyncs()).then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).to.equal('ENOENT');
    expect(readdirSync(dir)).to.deep.equal([]);
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
});
