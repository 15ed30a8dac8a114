import { expect } from 'chai';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadConfig, SecretKey, type LimenConfig } from '../../config/index.js';
import { expectConfig, expectErrors, loadYaml, scratchDir } from './helpers.js';

const HEX_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

describe('config: environment overrides', () => {
  it('each LIMEN_* variable sets its field, over the file', () => {
    const scratch = scratchDir();
    try {
      const file = scratch.write('limen.yaml', 'http: { host: 127.0.0.1, port: 8081 }\ndimse: { port: 11113, aeTitle: FILE_AE }\ndataDir: from-file\n');
      const config = expectConfig(
        loadConfig({
          file,
          cwd: '/work',
          env: {
            LIMEN_DATA_DIR: '/srv/limen',
            LIMEN_HTTP_HOST: '127.0.0.2',
            LIMEN_HTTP_PORT: '9090',
            LIMEN_DIMSE_HOST: '::1',
            LIMEN_DIMSE_PORT: '4242',
            LIMEN_AE_TITLE: 'ENV_AE',
            LIMEN_DATABASE_URL: 'postgres://limen@127.0.0.1:5432/test',
            LIMEN_MASTER_KEY_FILE: '/etc/limen/master.key',
          },
        }),
      );
      expect(config.dataDir).to.equal('/srv/limen');
      expect(config.http).to.include({ host: '127.0.0.2', port: 9090 });
      expect(config.dimse).to.include({ host: '::1', port: 4242, aeTitle: 'ENV_AE' });
      expect(config.database).to.deep.equal({ kind: 'postgres', url: 'postgres://limen@127.0.0.1:5432/test' });
      expect(config.masterKey).to.deep.equal({ source: 'file', file: '/etc/limen/master.key' });
    } finally {
      scratch.cleanup();
    }
  });

  it('works with no file at all', () => {
    const config = expectConfig(loadConfig({ env: { LIMEN_DIMSE_PORT: '104', LIMEN_AE_TITLE: 'GW' }, cwd: '/tmp' }));
    expect(config.dimse.port).to.equal(104);
    expect(config.dimse.aeTitle).to.equal('GW');
  });

  it('relative paths from the environment resolve against the working directory, not the file', () => {
    const scratch = scratchDir();
    try {
      const file = scratch.write('limen.yaml', 'models: { dir: m }\n');
      const config = expectConfig(
        loadConfig({ file, cwd: '/work/run', env: { LIMEN_DATA_DIR: 'state', LIMEN_DATABASE_URL: 'sqlite:db.sqlite', LIMEN_MASTER_KEY_FILE: 'k/master.key' } }),
      );
      expect(config.dataDir).to.equal('/work/run/state');
      expect(config.database).to.include({ kind: 'sqlite', filename: '/work/run/db.sqlite' });
      expect(config.masterKey).to.deep.equal({ source: 'file', file: '/work/run/k/master.key' });
      expect(config.models.dir).to.equal(join(scratch.dir, 'm'));
      // The default database follows the overridden data dir.
      const second = expectConfig(loadConfig({ file, cwd: '/work/run', env: { LIMEN_DATA_DIR: 'state' } }));
      expect(second.database).to.include({ filename: '/work/run/state/limen.sqlite' });
    } finally {
      scratch.cleanup();
    }
  });

  it('LIMEN_CONFIG names the file; an explicit file wins over it', () => {
    const scratch = scratchDir();
    try {
      const a = scratch.write('a.yaml', 'http: { port: 8001 }\n');
      const b = scratch.write('b.yaml', 'http: { port: 8002 }\n');
      const viaEnv = loadConfig({ env: { LIMEN_CONFIG: 'a.yaml' }, cwd: scratch.dir });
      expect(expectConfig(viaEnv).http.port).to.equal(8001);
      expect(viaEnv.ok && viaEnv.file).to.equal(a);
      expect(expectConfig(loadConfig({ file: b, env: { LIMEN_CONFIG: a }, cwd: scratch.dir })).http.port).to.equal(8002);
    } finally {
      scratch.cleanup();
    }
  });

  it('an empty variable counts as unset', () => {
    const config = expectConfig(loadYaml('http: { port: 8081 }\n', { LIMEN_HTTP_PORT: '', LIMEN_CONFIG: '' }));
    expect(config.http.port).to.equal(8081);
  });

  it('a port that is not a number is an error naming the variable', () => {
    const errors = expectErrors(loadYaml('', { LIMEN_HTTP_PORT: 'eighty', LIMEN_DIMSE_PORT: '11112x' }));
    expect(errors).to.have.length(2);
    expect(errors[0]).to.include({ code: 'invalid_env', path: 'http.port', variable: 'LIMEN_HTTP_PORT' });
    expect(errors[0].message).to.contain('LIMEN_HTTP_PORT').and.contain('eighty');
    expect(errors[1]).to.include({ code: 'invalid_env', path: 'dimse.port', variable: 'LIMEN_DIMSE_PORT' });
  });

  it('a value from the environment that fails the schema says which variable set it', () => {
    const errors = expectErrors(loadYaml('', { LIMEN_HTTP_PORT: '70000', LIMEN_AE_TITLE: 'BACK\\SLASH', LIMEN_DIMSE_HOST: 'not a host' }));
    const byPath = Object.fromEntries(errors.map((e) => [e.path, e]));
    expect(byPath['http.port']).to.include({ code: 'out_of_range', variable: 'LIMEN_HTTP_PORT' });
    expect(byPath['http.port'].message).to.contain('65535').and.contain('LIMEN_HTTP_PORT');
    expect(byPath['http.port'].line).to.equal(undefined);
    expect(byPath['dimse.aeTitle']).to.include({ code: 'invalid_value', variable: 'LIMEN_AE_TITLE' });
    expect(byPath['dimse.aeTitle'].message).to.contain('backslash');
    expect(byPath['dimse.host']).to.include({ code: 'invalid_value', variable: 'LIMEN_DIMSE_HOST' });
  });

  it('LIMEN_PUBLIC_URL sets the origin clients reach Limen at, and refuses what is not an origin', () => {
    expect(expectConfig(loadYaml('', { LIMEN_PUBLIC_URL: 'https://PACS.Hospital.example:443/' })).http.publicUrl).to.equal('https://pacs.hospital.example');
    expect(expectConfig(loadYaml('http: { publicUrl: "http://10.0.0.5:8080" }\n')).http.publicUrl).to.equal('http://10.0.0.5:8080');
    expect(expectConfig(loadYaml('')).http.publicUrl).to.equal(undefined);
    for (const [value, reason] of [
      ['pacs.hospital.example', /not an absolute URL/],
      ['ftp://pacs.hospital.example', /scheme is ftp/],
      ['https://pacs.hospital.example/limen', /path, query or fragment/],
      ['https://pacs.hospital.example/?a=1', /path, query or fragment/],
      ['https://user:secret@pacs.hospital.example', /credentials/],
    ] as const) {
      const errors = expectErrors(loadYaml('', { LIMEN_PUBLIC_URL: value }));
      expect(errors, value).to.have.length(1);
      expect(errors[0]).to.include({ path: 'http.publicUrl', variable: 'LIMEN_PUBLIC_URL' });
      expect(errors[0].message).to.match(reason);
    }
  });

  it('a bad LIMEN_DATABASE_URL is refused without repeating it (it may hold a password)', () => {
    const errors = expectErrors(loadYaml('', { LIMEN_DATABASE_URL: 'mysql://root:s3cret@db/limen' }));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ path: 'database.url', variable: 'LIMEN_DATABASE_URL' });
    expect(errors[0].message).not.to.contain('s3cret');
  });

  describe('LIMEN_MASTER_KEY', () => {
    it('accepts 64 hex digits or base64 of 32 bytes, and wins over a key file in the config', () => {
      const hex = expectConfig(loadYaml('masterKey: { file: k }\n', { LIMEN_MASTER_KEY: HEX_KEY }));
      expect(hex.masterKey.source).to.equal('env');
      const key = (hex.masterKey as Extract<LimenConfig['masterKey'], { source: 'env' }>).key;
      expect(Buffer.from(key.bytes()).toString('hex')).to.equal(HEX_KEY);

      const b64 = Buffer.from(HEX_KEY, 'hex').toString('base64');
      const viaBase64 = expectConfig(loadYaml('', { LIMEN_MASTER_KEY: `${b64}\n` }));
      const key2 = (viaBase64.masterKey as Extract<LimenConfig['masterKey'], { source: 'env' }>).key;
      expect(Buffer.from(key2.bytes()).toString('hex')).to.equal(HEX_KEY);
    });

    it('never shows the key in JSON, inspection or strings', () => {
      const config = expectConfig(loadYaml('', { LIMEN_MASTER_KEY: HEX_KEY }));
      const key = (config.masterKey as { key: SecretKey }).key;
      expect(key).to.be.instanceOf(SecretKey);
      for (const text of [JSON.stringify(config), inspect(config, { depth: 10 }), String(key)]) {
        expect(text).not.to.contain('00112233');
        expect(text).not.to.contain(Buffer.from(HEX_KEY, 'hex').toString('base64').slice(0, 12));
      }
      // bytes() hands out copies.
      key.bytes()[0] = 0xff;
      expect(key.bytes()[0]).to.equal(0x00);
    });

    it('a malformed key is an error naming the variable, without the value', () => {
      const errors = expectErrors(loadYaml('', { LIMEN_MASTER_KEY: 'tooshort-secretvalue' }));
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include({ code: 'invalid_env', path: 'masterKey', variable: 'LIMEN_MASTER_KEY' });
      expect(errors[0].message).to.contain('LIMEN_MASTER_KEY').and.not.contain('secretvalue');
    });

    it('together with LIMEN_MASTER_KEY_FILE is a conflict', () => {
      const errors = expectErrors(loadYaml('', { LIMEN_MASTER_KEY: HEX_KEY, LIMEN_MASTER_KEY_FILE: '/k' }));
      expect(errors.map((e) => e.code)).to.deep.equal(['conflicting_env']);
    });
  });
});
