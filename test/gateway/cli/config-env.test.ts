/**
 * The `LIMEN_*` environment as `limen config check` and `limen start` read it: a misspelt variable,
 * which nothing reads, is warned of with the name meant; a LIMEN_LOG_LEVEL that start refuses,
 * config check refuses too.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LimenProcess, runLimen } from '../../support/limen-cli.js';
import { freePort } from '../../support/ports.js';

describe('limen config check and start: the environment', function () {
  this.timeout(60_000);
  let work: string;
  let config: string;
  let gw: LimenProcess | undefined;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'limen-config-env-'));
    config = join(work, 'limen.yaml');
    writeFileSync(config, 'routes:\n  default: {}\n');
  });
  after(async () => {
    await gw?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('config check warns of a misspelt LIMEN_* variable, naming the one meant, and stays valid', async () => {
    const r = await runLimen(['config', 'check', config], { cwd: work, env: { LIMEN_DIMSE_HOSTS: '0.0.0.0', LIMEN_MASTERKEY: 'x', LIMEN_LOG_LEVEL: 'debug', LIMEN_SKIP_VIEWER: '1' } });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr.trim().split('\n')).to.deep.equal([
      'warning: LIMEN_DIMSE_HOSTS: Limen reads no such variable, so it is ignored; did you mean LIMEN_DIMSE_HOST?',
      'warning: LIMEN_MASTERKEY: Limen reads no such variable, so it is ignored; did you mean LIMEN_MASTER_KEY?',
    ]);
  });

  it('config check refuses a LIMEN_LOG_LEVEL that start refuses (exit 1), with the file’s own errors', async () => {
    const r = await runLimen(['config', 'check', config], { cwd: work, env: { LIMEN_LOG_LEVEL: 'verbose' } });
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal('LIMEN_LOG_LEVEL is "verbose"; it is one of debug, info, warn, error\n');
    const both = await runLimen(['config', 'check', config], { cwd: work, env: { LIMEN_LOG_LEVEL: 'verbose', LIMEN_HTTP_PORT: 'x' } });
    expect(both.stderr.trim().split('\n')).to.deep.equal(['http.port: LIMEN_HTTP_PORT must be a whole number (a port), got "x"', 'LIMEN_LOG_LEVEL is "verbose"; it is one of debug, info, warn, error']);
  });

  it('start logs the warning', async () => {
    const env = { LIMEN_DATA_DIR: join(work, 'var'), LIMEN_HTTP_PORT: String(await freePort()), LIMEN_DIMSE_PORT: String(await freePort()), LIMEN_HTTP_PROT: '80' };
    gw = LimenProcess.spawn(['start', '--config', config], { cwd: work, env });
    await gw.started();
    expect(gw.logRecords().find((r) => r.id === 'gateway.config.warning' && r.path === 'LIMEN_HTTP_PROT')).to.include({
      level: 'warn',
      code: 'unknown_variable',
      msg: 'Limen reads no such variable, so it is ignored; did you mean LIMEN_HTTP_PORT?',
    });
    expect(await gw.stop()).to.deep.equal({ code: 0, signal: null });
  });
});
