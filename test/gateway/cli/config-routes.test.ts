/**
 * A route's de-identification profile, options and model are checked by compiling the routes, as
 * the gateway does, after the schema: `limen start` refuses what they find as a configuration
 * error (exit 2, nothing started), and `limen config check` reports it in the same run as the
 * schema's errors, for every route whose own fields are valid.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLimen } from '../../support/limen-cli.js';

const KNOWN = 'known: basic (PS3.15 Basic Application Confidentiality Profile, with options)';

describe('limen start and config check: the routes compiled', function () {
  this.timeout(60_000);
  let work: string;
  before(() => (work = mkdtempSync(join(tmpdir(), 'limen-config-routes-'))));
  after(() => rmSync(work, { recursive: true, force: true }));

  const file = (name: string, yaml: string): string => {
    const path = join(work, name);
    writeFileSync(path, yaml);
    return path;
  };

  it('limen start exits 2 (configuration error, nothing started) for an unknown profile, option or model, each as "path (line, column): reason"', async () => {
    const config = file(
      'routes.yaml',
      ['routes:', '  ct:', '    deidentification: { profile: basci }', '  mr:', '    deidentification: { options: [retainUID] }', '  us:', '    model: nomodel', ''].join('\n'),
    );
    const dataDir = join(work, 'var-start');
    const r = await runLimen(['start', '--config', config], { cwd: work, env: { LIMEN_DATA_DIR: dataDir, LIMEN_HTTP_PORT: '1', LIMEN_DIMSE_PORT: '2' } });
    expect(r.code, r.stderr).to.equal(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).to.equal('limen start: the configuration is not valid:');
    expect(lines).to.have.length(4);
    expect(lines[1]).to.equal(`routes.ct.deidentification.profile (line 3, column 34): unknown profile "basci"; ${KNOWN}`);
    expect(lines[2]).to.match(/^routes\.mr\.deidentification\.options\[0\] \(line 5, column 35\): unknown option "retainUID"; known: .*\bretainUIDs\b/);
    expect(lines[3]).to.equal(`routes.us.model (line 7, column 12): no model "nomodel" in ${join(work, 'models')} or among the models shipped with Limen`);
    expect(existsSync(dataDir), 'no data dir made').to.equal(false);
  });

  it('limen config check reports the routes’ errors with the schema’s in one run, and none for a route whose own fields failed', async () => {
    const config = file(
      'both.yaml',
      [
        'http:',
        '  port: eighty',
        'routes:',
        '  ct:',
        '    deidentification: { profile: basci }',
        '  broken:',
        '    stableSeconds: 0',
        '    deidentification: { profile: nope }',
        '  us:',
        '    model: nomodel',
        '',
      ].join('\n'),
    );
    const r = await runLimen(['config', 'check', config], { cwd: work });
    expect(r.code, r.stderr).to.equal(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.map((l) => l.split(/[ :]/)[0])).to.deep.equal(['http.port', 'routes.broken.stableSeconds', 'routes.ct.deidentification.profile', 'routes.us.model']);
    expect(lines[2]).to.equal(`routes.ct.deidentification.profile (line 5, column 34): unknown profile "basci"; ${KNOWN}`);
    expect(r.stderr).to.not.contain('"nope"');
  });
});
