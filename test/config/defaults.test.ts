import { expect } from 'chai';
import { join } from 'node:path';
import {
  CT_IMAGE_STORAGE,
  DEFAULT_MAX_INSTANCE_BYTES,
  ENHANCED_CT_IMAGE_STORAGE,
  loadConfig,
  loadConfigOrThrow,
} from '../../config/index.js';
import { expectConfig, loadYaml, scratchDir } from './helpers.js';

describe('config: defaults', () => {
  it('with no file and no environment, runs on the documented defaults', () => {
    const scratch = scratchDir();
    try {
      const result = loadConfig({ env: {}, cwd: scratch.dir });
      const config = expectConfig(result);
      expect(result.ok && result.file).to.equal(undefined);
      expect(config.dataDir).to.equal(join(scratch.dir, 'var'));
      expect(config.database).to.deep.equal({
        kind: 'sqlite',
        url: `sqlite:${join(scratch.dir, 'var', 'limen.sqlite')}`,
        filename: join(scratch.dir, 'var', 'limen.sqlite'),
      });
      expect(config.http).to.deep.equal({ host: '127.0.0.1', port: 8080, maxInstanceBytes: 512 * 1024 * 1024, maxConcurrentStowRequests: 8 });
      expect(DEFAULT_MAX_INSTANCE_BYTES).to.equal(536870912);
      expect(config.dimse).to.include({ host: '127.0.0.1', port: 11112, aeTitle: 'LIMEN' });
      expect(config.dimse.maxPduLength).to.be.at.least(16384);
      expect(config.dimse.associationIdleTimeoutSeconds).to.be.greaterThan(0);
      expect(config.masterKey).to.deep.equal({ source: 'generated', file: join(scratch.dir, 'var', 'master.key') });
      expect(config.remoteAEs).to.deep.equal([]);
      expect(config.destinations).to.deep.equal({});
      expect(config.models.dir).to.equal(join(scratch.dir, 'models'));
      expect(config.export.retryDelaysSeconds.length).to.be.greaterThan(0);
      expect(config.worker).to.deep.equal({ enabled: true, concurrency: 1, pollIntervalMs: 1000 });
      expect(config.retention.enabled).to.equal(true);
    } finally {
      scratch.cleanup();
    }
  });

  it('always has a default route, with the defaults the issues rely on', () => {
    const config = expectConfig(loadConfig({ env: {}, cwd: '/tmp' }));
    expect(Object.keys(config.routes)).to.deep.equal(['default']);
    expect(config.routes.default).to.deep.equal({
      deidentification: { profile: 'basic', options: [], allowBurnedIn: false },
      acceptSopClasses: [CT_IMAGE_STORAGE, ENHANCED_CT_IMAGE_STORAGE],
      stableSeconds: 10,
      retentionDays: 30,
      destinations: [],
      acceptAnyCaller: true,
    });
    expect(CT_IMAGE_STORAGE).to.equal('1.2.840.10008.5.1.4.1.1.2');
    expect(ENHANCED_CT_IMAGE_STORAGE).to.equal('1.2.840.10008.5.1.4.1.1.2.1');
  });

  it('adds the default route beside the routes a file defines, and fills a partly written one', () => {
    const config = expectConfig(loadYaml('routes:\n  ct:\n    stableSeconds: 3\n'));
    expect(Object.keys(config.routes).sort()).to.deep.equal(['ct', 'default']);
    expect(config.routes.ct.stableSeconds).to.equal(3);
    expect(config.routes.ct.retentionDays).to.equal(30);
    expect(config.routes.ct.deidentification.profile).to.equal('basic');

    const partial = expectConfig(loadYaml('routes:\n  default:\n    retentionDays: 7\n'));
    expect(partial.routes.default.retentionDays).to.equal(7);
    expect(partial.routes.default.stableSeconds).to.equal(10);
  });

  it('an empty file, or sections left empty, mean the defaults', () => {
    expect(expectConfig(loadYaml('')).http.port).to.equal(8080);
    expect(expectConfig(loadYaml('# nothing here\n')).dimse.aeTitle).to.equal('LIMEN');
    const config = expectConfig(loadYaml('http:\ndimse:\n  port:\n'));
    expect(config.http.port).to.equal(8080);
    expect(config.dimse.port).to.equal(11112);
  });

  it('resolves relative paths in the file against the file, absolute ones as written', () => {
    const result = loadYaml(
      [
        'dataDir: data',
        'database: { url: "sqlite:db/limen.db" }',
        'masterKey: { file: secrets/master.key }',
        'dimse: { tls: { certificateFile: tls/limen.crt, privateKeyFile: /etc/limen/limen.key, callerCaFile: tls/ca.crt } }',
        'models: { dir: /opt/limen/models }',
        'destinations:',
        '  pacs: { kind: dimse, aeTitle: PACS, host: pacs, port: 2762, tls: { caFile: tls/ca.crt } }',
        '  archive:',
        '    kind: dicomweb',
        '    url: https://archive.example/dicomweb',
        '    auth: { basic: { user: limen, passwordFile: archive.pw } }',
      ].join('\n'),
    );
    const config = expectConfig(result);
    expect(config.dataDir).to.equal(join(result.dir, 'data'));
    expect(config.database).to.include({ kind: 'sqlite', filename: join(result.dir, 'db', 'limen.db') });
    expect(config.masterKey).to.deep.equal({ source: 'file', file: join(result.dir, 'secrets', 'master.key') });
    expect(config.models.dir).to.equal('/opt/limen/models');
    expect(config.dimse.tls).to.deep.equal({
      port: 2762,
      certificateFile: join(result.dir, 'tls', 'limen.crt'),
      privateKeyFile: '/etc/limen/limen.key',
      callerCaFile: join(result.dir, 'tls', 'ca.crt'),
    });
    expect(config.destinations.pacs).to.deep.include({ tls: { caFile: join(result.dir, 'tls', 'ca.crt') } });
    expect(config.destinations.archive).to.deep.equal({
      kind: 'dicomweb',
      url: 'https://archive.example/dicomweb',
      auth: { basic: { user: 'limen', passwordFile: join(result.dir, 'archive.pw') } },
    });
  });

  it('the default database follows the data dir', () => {
    const config = expectConfig(loadYaml('dataDir: /srv/limen\n'));
    expect(config.database).to.deep.equal({ kind: 'sqlite', url: 'sqlite:/srv/limen/limen.sqlite', filename: '/srv/limen/limen.sqlite' });
    expect(config.masterKey).to.deep.equal({ source: 'generated', file: '/srv/limen/master.key' });
  });

  it('reads the database URL forms', () => {
    const pg = expectConfig(loadYaml('database: { url: "postgres://limen@127.0.0.1:5432/test" }\n'));
    expect(pg.database).to.deep.equal({ kind: 'postgres', url: 'postgres://limen@127.0.0.1:5432/test' });
    const abs = expectConfig(loadYaml('database: { url: "sqlite:///var/lib/limen/l.db" }\n'));
    expect(abs.database).to.include({ kind: 'sqlite', filename: '/var/lib/limen/l.db' });
    const mem = expectConfig(loadYaml('database: { url: "sqlite::memory:" }\n'));
    expect(mem.database).to.deep.equal({ kind: 'sqlite', url: 'sqlite::memory:', filename: ':memory:' });
  });

  it('normalizes what has insignificant spelling: AE title spaces, private element notation', () => {
    const config = expectConfig(
      loadYaml(
        [
          'dimse: { aeTitle: " LIMEN_A " }',
          'remoteAEs: [{ aeTitle: "CT1  " }]',
          'routes:',
          '  default:',
          '    deidentification:',
          '      options: [retainSafePrivate]',
          '      safePrivateAllowlist: [{ creator: GEMS_PARM_01, element: "(0043,XX27)" }, { creator: X, element: "7053,xx0a" }]',
        ].join('\n'),
      ),
    );
    expect(config.dimse.aeTitle).to.equal('LIMEN_A');
    expect(config.remoteAEs[0]).to.deep.equal({ aeTitle: 'CT1', route: 'default', tlsRequired: false });
    expect(config.routes.default.deidentification.safePrivateAllowlist).to.deep.equal([
      { creator: 'GEMS_PARM_01', group: 0x0043, element: 0x27 },
      { creator: 'X', group: 0x7053, element: 0x0a },
    ]);
  });

  it('returns a frozen configuration', () => {
    const config = expectConfig(loadConfig({ env: {}, cwd: '/tmp' }));
    expect(Object.isFrozen(config)).to.equal(true);
    expect(Object.isFrozen(config.routes.default.acceptSopClasses)).to.equal(true);
    expect(() => {
      (config.http as { port: number }).port = 1;
    }).to.throw(TypeError);
  });

  it('loadConfigOrThrow returns the same configuration', () => {
    const config = loadConfigOrThrow({ env: { LIMEN_HTTP_PORT: '9000' }, cwd: '/tmp' });
    expect(config.http.port).to.equal(9000);
  });
});
