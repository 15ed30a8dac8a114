/** `limen token create|list|revoke` as an operator runs it: exit codes, what is printed, what is stored. */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { openStorage, SQLITE_FILE } from '../../../storage/index.js';
import { runLimen, type LimenResult } from '../../support/limen-cli.js';

interface ListedToken {
  id: string;
  role: string;
  user: string | null;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  state: string;
}

describe('limen token', function () {
  this.timeout(60_000);
  let work: string;
  let limen: (args: string[]) => Promise<LimenResult>;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'limen-token-cli-'));
    limen = (args) => runLimen(['token', ...args], { cwd: work, env: { LIMEN_DATA_DIR: join(work, 'var') } });
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const listed = async (): Promise<ListedToken[]> => {
    const r = await limen(['list', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as ListedToken[];
  };

  it('a --ttl beyond a real date (99999999999d) is refused with the reason before anything is stored', async () => {
    const r = await limen(['create', '--role', 'admin', '--ttl', '99999999999d']);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stdout, 'no token printed').to.equal('');
    expect(r.stderr).to.include('--ttl: 99999999999d is more than the maximum of 730d');
    expect(r.stderr).to.match(/usage: limen token create/);
    expect(r.stderr).to.not.include('Invalid time value');
    expect(existsSync(join(work, 'var', SQLITE_FILE)), 'checked before storage is even opened: nothing stored').to.equal(false);
  });

  it('says why a --ttl or --role is refused: zero, not a duration, just over the maximum, unknown role, none', async () => {
    const cases: Array<[string[], string]> = [
      [['--role', 'admin', '--ttl', '0d'], '--ttl: 0d is not a positive duration'],
      [['--role', 'admin', '--ttl', '2 weeks'], '--ttl: "2 weeks" is not a duration (30d, 12h, 45m, 3600s or plain seconds)'],
      [['--role', 'admin', '--ttl', '731d'], '--ttl: 731d is more than the maximum of 730d'],
      [['--role', 'admin', '--ttl', '63072001'], '--ttl: 63072001 is more than the maximum of 730d'],
      [['--role', 'root'], '--role: "root" is not one of admin, reviewer, requester, auditor, modality'],
      [[], '--role is required: one of admin, reviewer, requester, auditor, modality'],
    ];
    for (const [args, reason] of cases) {
      const r = await limen(['create', ...args]);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stdout, args.join(' ')).to.equal('');
      expect(r.stderr, args.join(' ')).to.include(`limen token: ${reason}\n`);
    }
    expect(existsSync(join(work, 'var', SQLITE_FILE))).to.equal(false);
  });

  it('accepts the maximum, 730d, and states it in the help', async () => {
    const r = await limen(['create', '--role', 'auditor', '--ttl', '730d']);
    expect(r.code, r.stderr).to.equal(0);
    // The first token made the database: said, since a gateway serving other data would not know it.
    expect(r.stderr).to.include(`there was no Limen database at ${join(work, 'var', SQLITE_FILE)}: created one`);
    const [token] = await listed();
    expect(Date.parse(token.expiresAt) - Date.parse(token.createdAt)).to.equal(730 * 86_400_000);
    expect((await limen(['create', '--role', 'auditor'])).stderr).to.not.include('there was no Limen database');
    const help = await limen(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('at most 730d (2 years)').and.include('limen token list [--json]').and.include('limen token revoke <id>');
  });

  it('lists every token without its secret: a table for people, JSON for scripts', async () => {
    const reviewer = await limen(['create', '--role', 'reviewer', '--user', 'dr-who', '--ttl', '12h']);
    const modality = await limen(['create', '--role', 'modality', '--ttl', '1h']);
    expect(reviewer.code, reviewer.stderr).to.equal(0);
    expect(modality.code, modality.stderr).to.equal(0);
    const secrets = [reviewer.stdout.trim(), modality.stdout.trim()];

    const tokens = await listed();
    expect(tokens).to.have.length(2);
    expect(tokens.map((t) => Object.keys(t).sort())).to.deep.equal([0, 1].map(() => ['createdAt', 'expiresAt', 'id', 'revokedAt', 'role', 'state', 'user']));
    const byRole = Object.fromEntries(tokens.map((t) => [t.role, t]));
    expect(byRole.reviewer).to.include({ user: 'dr-who', revokedAt: null, state: 'active' });
    expect(byRole.modality).to.include({ user: null, revokedAt: null, state: 'active' });
    expect(Date.parse(byRole.reviewer.expiresAt) - Date.parse(byRole.reviewer.createdAt)).to.equal(12 * 3600_000);
    expect(reviewer.stderr).to.include(`token ${byRole.reviewer.id} for role reviewer`);

    const table = await limen(['list']);
    expect(table.code, table.stderr).to.equal(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^ID\s+ROLE\s+USER\s+CREATED\s+EXPIRES\s+REVOKED\s+STATE$/);
    expect(lines).to.have.length(3);
    expect(table.stdout).to.match(new RegExp(`${byRole.reviewer.id}\\s+reviewer\\s+dr-who\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ\\s+-\\s+active`));
    for (const out of [table.stdout, JSON.stringify(tokens)]) {
      for (const secret of secrets) {
        expect(out).to.not.include(secret);
        expect(out).to.not.include(secret.slice('limen_'.length, 20));
      }
      expect(out, 'no SHA-256 hex').to.not.match(/[0-9a-f]{64}/);
    }
  });

  it('says so when there are no tokens, and does not create a database to list or revoke in', async () => {
    for (const args of [['list'], ['revoke', 'feedfacefeedface']]) {
      const r = await limen(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.include('no Limen database');
      expect(existsSync(join(work, 'var', SQLITE_FILE)), args.join(' ')).to.equal(false);
    }
    const masterKey = randomBytes(32);
    await (await openStorage({ dataDir: join(work, 'var'), masterKey })).close();
    const r = await runLimen(['token', 'list'], { cwd: work, env: { LIMEN_DATA_DIR: join(work, 'var'), LIMEN_MASTER_KEY: masterKey.toString('hex') } });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^no tokens/);
  });

  it('revokes a token by id; revoking twice says it already was; an unknown id is an error', async () => {
    expect((await limen(['create', '--role', 'reviewer', '--user', 'dr-who'])).code).to.equal(0);
    const [token] = await listed();

    const unknown = await limen(['revoke', 'feedfacefeedface']);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('no token has the id "feedfacefeedface"');

    const first = await limen(['revoke', token.id]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.include(`token ${token.id} (role reviewer, user dr-who) revoked`);
    const [after] = await listed();
    expect(after).to.include({ id: token.id, state: 'revoked' });
    expect(Date.parse(after.revokedAt!)).to.be.closeTo(Date.now(), 60_000);

    const second = await limen(['revoke', token.id]);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stdout).to.equal(`token ${token.id} was already revoked at ${after.revokedAt}\n`);

    const missing = await limen(['revoke']);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include('revoke takes exactly one token id');

    // The trail names who issued and revoked it at the command line: the operating system's user.
    const masterKey = Buffer.from(readFileSync(join(work, 'var', 'master.key'), 'utf8').trim(), 'hex');
    const s = await openStorage({ dataDir: join(work, 'var'), masterKey });
    try {
      const events = (await s.audit.list({ limit: 100 })).filter((e) => e.type === 'token.created' || e.type === 'token.revoked');
      expect(events.map((e) => [e.type, e.actor])).to.deep.equal([
        ['token.created', `cli:${userInfo().username}`],
        ['token.revoked', `cli:${userInfo().username}`],
      ]);
    } finally {
      await s.close();
    }
  });

  it('an unknown action names itself and shows the usage', async () => {
    const r = await limen(['delete', 'x']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('limen token: unknown action "delete"').and.include('usage: limen token create');
  });
});
