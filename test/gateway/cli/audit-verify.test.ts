/**
 * `limen audit verify` as an auditor runs it, and what one-shot commands leave behind on a data
 * directory that is not the gateway's: no database, no master key, no de-identification key.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLimen } from '../../support/limen-cli.js';
import { openSqlite } from '../../support/sqlite.js';

const KEY = 'ab'.repeat(32);
const OTHER_KEY = 'cd'.repeat(32);

/** The `head <seq>:<hash>` line verify prints when the chain is intact. */
function headOf(stdout: string): string {
  const m = /^head (\d+:[0-9a-f]{64})$/m.exec(stdout);
  expect(m, stdout).to.not.equal(null);
  return m![1];
}

describe('limen audit verify and one-shot commands on a data dir', function () {
  this.timeout(120_000);
  let work: string;
  beforeEach(() => (work = mkdtempSync(join(tmpdir(), 'limen-audit-'))));
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('on a directory without a database: fails naming the missing database, and creates nothing', async () => {
    const dataDir = join(work, 'empty');
    const r = await runLimen(['audit', 'verify'], { env: { LIMEN_DATA_DIR: dataDir } });
    expect(r.code, r.stdout).to.not.equal(0);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.include(`limen audit verify: no Limen database at ${join(dataDir, 'limen.sqlite')}`);
    expect(existsSync(dataDir), 'no data dir made').to.equal(false);

    // An existing directory stays as it was: no database, no master.key.
    const r2 = await runLimen(['audit', 'verify'], { env: { LIMEN_DATA_DIR: work } });
    expect(r2.code).to.not.equal(0);
    expect(readdirSync(work)).to.deep.equal([]);
  });

  it('uses the SQLite file database.url (LIMEN_DATABASE_URL) names, not the one in the data dir', async () => {
    const file = join(work, 'elsewhere', 'index.sqlite');
    const env = { LIMEN_DATA_DIR: join(work, 'var'), LIMEN_MASTER_KEY: KEY, LIMEN_DATABASE_URL: `sqlite:${file}` };
    const created = await runLimen(['token', 'create', '--role', 'auditor'], { env });
    expect(created.code, created.stderr).to.equal(0);
    expect(existsSync(file), 'the named file').to.equal(true);
    expect(existsSync(join(work, 'var', 'limen.sqlite')), 'none in the data dir').to.equal(false);
    const verified = await runLimen(['audit', 'verify'], { env });
    expect(verified.stdout).to.include('audit trail intact: 1 events');
  });

  it('never writes a master key beside a database created under another, and names itself (not start) in the errors', async () => {
    const env = { LIMEN_DATA_DIR: join(work, 'var') };
    const created = await runLimen(['token', 'create', '--role', 'auditor'], { env: { ...env, LIMEN_MASTER_KEY: KEY } });
    expect(created.code, created.stderr).to.equal(0);

    const withoutKey = await runLimen(['audit', 'verify'], { env });
    expect(withoutKey.code).to.not.equal(0);
    expect(existsSync(join(work, 'var', 'master.key')), 'no stray master.key').to.equal(false);
    expect(withoutKey.stderr).to.match(/^limen audit verify: no master key /);
    expect(withoutKey.stderr).to.not.include('start');

    const wrongKey = await runLimen(['audit', 'verify'], { env: { ...env, LIMEN_MASTER_KEY: OTHER_KEY } });
    expect(wrongKey.code).to.not.equal(0);
    expect(wrongKey.stderr).to.match(/^limen audit verify: the database at .* was created under a different master key/);
    expect(wrongKey.stderr).to.not.include('refusing to start');

    const right = await runLimen(['audit', 'verify'], { env: { ...env, LIMEN_MASTER_KEY: KEY } });
    expect(right.code, right.stderr).to.equal(0);
    expect(right.stdout).to.include('audit trail intact: 1 events');
  });

  it('token create still sets up a fresh data dir (generated key) before the first start', async () => {
    const env = { LIMEN_DATA_DIR: join(work, 'var') };
    const created = await runLimen(['token', 'create', '--role', 'modality'], { env });
    expect(created.code, created.stderr).to.equal(0);
    expect(created.stderr).to.include(`generated a development master key in ${join(work, 'var', 'master.key')}`);
    const again = await runLimen(['token', 'create', '--role', 'admin'], { env });
    expect(again.code, again.stderr).to.equal(0);
    const r = await runLimen(['audit', 'verify'], { env });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('audit trail intact: 2 events');
  });

  it('prints the head; --expect-head fails once that event is gone (a truncated trail) or has another hash', async () => {
    const env = { LIMEN_DATA_DIR: join(work, 'var'), LIMEN_MASTER_KEY: KEY };
    const token = () => runLimen(['token', 'create', '--role', 'reviewer'], { env });
    const verify = (...args: string[]) => runLimen(['audit', 'verify', ...args], { env });
    for (let i = 0; i < 2; i++) expect((await token()).code).to.equal(0);
    const first = await verify();
    expect(first.code, first.stderr).to.equal(0);
    const head2 = headOf(first.stdout);
    expect(head2).to.match(/^2:/);
    expect((await token()).code).to.equal(0);
    const second = await verify();
    const head3 = headOf(second.stdout);
    expect(head3).to.match(/^3:/);

    const stillThere = await verify('--expect-head', head2);
    expect(stillThere.code, stillThere.stdout + stillThere.stderr).to.equal(0);
    expect(stillThere.stdout).to.include(`${head2} is in the chain`);
    expect((await verify('--expect-head', head3)).code).to.equal(0);

    // Whoever holds the file removes the newest event (its triggers dropped first): the chain
    // alone is still intact, the head kept elsewhere is not in it any more.
    const db = openSqlite(join(work, 'var', 'limen.sqlite'));
    try {
      for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'").all() as Array<{ name: string }>) db.exec(`DROP TRIGGER ${name}`);
      db.prepare('DELETE FROM audit_events WHERE seq = 3').run();
    } finally {
      db.close();
    }
    expect((await verify()).code, 'the chain alone does not see it').to.equal(0);
    const truncated = await verify('--expect-head', head3);
    expect(truncated.code).to.equal(1);
    expect(truncated.stdout).to.match(new RegExp(`BROKEN: the expected head ${head3} is no longer in the chain, which ends at seq 2`));
    expect(truncated.stdout, 'not called intact as well').to.not.include('intact');

    const otherHash = `2:${'0'.repeat(64)}`;
    const rewritten = await verify('--expect-head', otherHash);
    expect(rewritten.code).to.equal(1);
    expect(rewritten.stdout).to.include(`event seq 2 has hash ${head2.slice(2)}, not the expected ${'0'.repeat(64)}`);

    const malformed = await verify('--expect-head', 'yesterday');
    expect(malformed.code).to.equal(2);
    expect(malformed.stderr).to.include('--expect-head takes <seq>:<hash>');
  });

  it('limen deidentify checks its inputs before it makes a key', async () => {
    const dataDir = join(work, 'var');
    const r = await runLimen(['deidentify', join(work, 'nonexistent'), '--out', join(work, 'out')], { env: { LIMEN_DATA_DIR: dataDir } });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('no such file or directory');
    expect(existsSync(join(dataDir, 'deidentify.key')), 'no key made').to.equal(false);
    expect(existsSync(join(work, 'out'))).to.equal(false);
  });
});
