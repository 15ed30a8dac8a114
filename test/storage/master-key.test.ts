import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATED_MASTER_KEY_FILE, loadConfiguredMasterKey, loadMasterKey, parseMasterKey } from '../../storage/index.js';
import { rejection } from './fixtures.js';

describe('storage: master key', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'limen-mk-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads 32 bytes as hex, base64, base64url or raw', () => {
    const key = randomBytes(32);
    expect(parseMasterKey(Buffer.from(key.toString('hex') + '\n'), 'x').equals(key)).to.equal(true);
    expect(parseMasterKey(Buffer.from(key.toString('base64')), 'x').equals(key)).to.equal(true);
    expect(parseMasterKey(Buffer.from(key.toString('base64url')), 'x').equals(key)).to.equal(true);
    expect(parseMasterKey(key, 'x').equals(key)).to.equal(true);
  });

  it('refuses a key of the wrong size without echoing it', () => {
    const secret = randomBytes(20).toString('hex');
    let err: { code?: string; message: string } | undefined;
    try {
      parseMasterKey(Buffer.from(secret), 'LIMEN_MASTER_KEY');
    } catch (e) {
      err = e as { code?: string; message: string };
    }
    expect(err?.code).to.equal('master-key-invalid');
    expect(err?.message).not.to.contain(secret);
  });

  it('generates a key into the data dir once, mode 0600, and reports it', async () => {
    const generated: string[] = [];
    const first = await loadMasterKey({ dataDir: dir, onGenerated: (p) => generated.push(p) });
    expect(first.source).to.equal('generated');
    expect(first.key.length).to.equal(32);
    const path = join(dir, GENERATED_MASTER_KEY_FILE);
    expect(generated).to.deep.equal([path]);
    expect(statSync(path).mode & 0o777).to.equal(0o600);
    const again = await loadMasterKey({ dataDir: dir, onGenerated: (p) => generated.push(p) });
    expect(again.source).to.equal('data-dir');
    expect(Buffer.from(again.key).equals(Buffer.from(first.key))).to.equal(true);
    expect(generated).to.have.length(1);
  });

  it('of processes generating at once, one key wins, whole, and every one of them gets it', async () => {
    // (A start and a `limen token create` on a new data dir: the loser must never read a half-written file.)
    const loaded = await Promise.all(Array.from({ length: 8 }, () => loadMasterKey({ dataDir: dir })));
    expect(loaded.filter((k) => k.source === 'generated')).to.have.length(1);
    for (const k of loaded) expect(Buffer.from(k.key).equals(Buffer.from(loaded[0].key))).to.equal(true);
    expect(readdirSync(dir)).to.deep.equal([GENERATED_MASTER_KEY_FILE]);
  });

  it('prefers a configured file or environment value and never generates then', async () => {
    const key = randomBytes(32);
    const file = join(dir, 'configured.key');
    writeFileSync(file, key.toString('base64'));
    const fromFile = await loadMasterKey({ file, dataDir: dir, onGenerated: () => expect.fail('generated') });
    expect(fromFile.source).to.equal('file');
    expect(Buffer.from(fromFile.key).equals(key)).to.equal(true);
    const fromEnv = await loadMasterKey({ envValue: key.toString('hex'), dataDir: dir, onGenerated: () => expect.fail('generated') });
    expect(fromEnv.source).to.equal('env');
    expect(Buffer.from(fromEnv.key).equals(key)).to.equal(true);
    expect(() => readFileSync(join(dir, GENERATED_MASTER_KEY_FILE))).to.throw();
  });

  it('takes raw bytes only from a file: a 32-character environment value is not a key', async () => {
    const err = await rejection(loadMasterKey({ envValue: 'a'.repeat(32), dataDir: dir }));
    expect(err.code).to.equal('master-key-invalid');
    expect(err.message).not.to.contain('a'.repeat(32));
  });

  it('loads what the resolved configuration names', async () => {
    const generated: string[] = [];
    const path = join(dir, 'sub', GENERATED_MASTER_KEY_FILE);
    const first = await loadConfiguredMasterKey({ source: 'generated', file: path }, (p) => generated.push(p));
    expect(first.source).to.equal('generated');
    expect(generated).to.deep.equal([path]);
    const fromFile = await loadConfiguredMasterKey({ source: 'file', file: path });
    expect(Buffer.from(fromFile.key).equals(Buffer.from(first.key))).to.equal(true);
  });

  it('refuses both a file and an environment value', async () => {
    const err = await rejection(loadMasterKey({ file: join(dir, 'k'), envValue: randomBytes(32).toString('hex'), dataDir: dir }));
    expect(err.code).to.equal('master-key-conflict');
  });

  it('names a missing key file', async () => {
    const file = join(dir, 'nope.key');
    const err = await rejection(loadMasterKey({ file, dataDir: dir }));
    expect(err.code).to.equal('master-key-invalid');
    expect(err.path).to.equal(file);
    expect(err.message).to.equal(`cannot read the master key file ${file}: ENOENT`);
  });

  it('says when a configured key file can be read by others than its owner', async () => {
    const file = join(dir, 'master.key');
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    expect((await loadConfiguredMasterKey({ source: 'file', file })).exposedMode).to.equal(undefined);
    chmodSync(file, 0o644);
    expect((await loadConfiguredMasterKey({ source: 'file', file })).exposedMode).to.equal(0o644);
  });

  it('says so of the development key kept in the data dir too (beside the database it unlocks)', async () => {
    const file = join(dir, 'var', 'master.key');
    const generated = await loadConfiguredMasterKey({ source: 'generated', file });
    expect(generated).to.deep.include({ source: 'generated' }).and.not.have.property('exposedMode');
    expect((await loadConfiguredMasterKey({ source: 'generated', file })).exposedMode).to.equal(undefined);
    chmodSync(file, 0o644);
    expect(await loadConfiguredMasterKey({ source: 'generated', file })).to.deep.include({ source: 'data-dir', exposedMode: 0o644 });
  });
});
