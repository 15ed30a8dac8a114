import { expect } from 'chai';
import { ConfigLoadError, formatConfigErrors, loadConfig, loadConfigOrThrow, validateConfig, type ConfigError } from '../../config/index.js';
import { expectErrors, loadYaml, scratchDir } from './helpers.js';

/** The only error of a config, checked for code and path. */
function onlyError(yaml: string): ConfigError {
  const errors = expectErrors(loadYaml(yaml));
  expect(errors, formatConfigErrors(errors)).to.have.length(1);
  return errors[0];
}

describe('config: errors', () => {
  describe('the file', () => {
    it('a missing file is file_unreadable, naming it', () => {
      const errors = expectErrors(loadConfig({ file: '/nonexistent/limen.yaml', env: {} }));
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include({ code: 'file_unreadable', path: '' });
      expect(errors[0].message).to.contain('/nonexistent/limen.yaml').and.contain('no such file');
    });

    it('YAML syntax errors come with line and column, all of them', () => {
      const errors = expectErrors(loadYaml('http:\n  port: 1\n  port: 2\ndimse: [1,\n'));
      expect(errors.length).to.be.at.least(2);
      expect(errors.every((e) => e.code === 'yaml_syntax')).to.equal(true);
      expect(errors[0]).to.include({ line: 3, column: 3 });
      expect(errors[0].message).to.match(/unique/i);
      expect(formatConfigErrors(errors).split('\n')[0]).to.match(/^config \(line 3, column 3\): YAML syntax: /);
    });

    it('a second YAML document is named as such, at the line it starts on', () => {
      const error = onlyError('# c\nhttp:\n  port: 8081\n---\ndimse:\n  port: 11113\n');
      expect(error).to.include({ code: 'yaml_syntax', path: '', line: 4, column: 1 });
      expect(formatConfigErrors([error])).to.equal(
        'config (line 4, column 1): a config file holds one YAML document, and a second one starts here (a "---" line starts a new document, a "..." line ends one): merge them into one',
      );
      // A "---" before the only document is not a second one.
      expect(loadYaml('---\nhttp:\n  port: 8081\n').ok).to.equal(true);
    });

    it('an alias without its anchor, or one that expands too far, is a YAML error, not a crash', () => {
      expect(onlyError('routes:\n  default:\n    stableSeconds: *a\n')).to.deep.equal({
        code: 'yaml_syntax',
        path: '',
        message: 'YAML: Unresolved alias (the anchor must be set before the alias): a',
      });
      const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
      expect(onlyError(`${bomb}\n`)).to.include({ code: 'yaml_syntax', path: '' });
    });

    it('a file that is not a mapping is refused', () => {
      expect(onlyError('- a\n- b\n')).to.include({ code: 'invalid_type', path: '' });
      expect(onlyError('just text\n')).to.include({ code: 'invalid_type', path: '' });
    });
  });

  describe('schema errors carry their path and the line they are on', () => {
    const cases: { name: string; yaml: string; code: ConfigError['code']; path: string; line?: number; message?: RegExp }[] = [
      { name: 'wrong type', yaml: 'http:\n  port: "8080"\n', code: 'invalid_type', path: 'http.port', line: 2, message: /expected a number, got a string/ },
      { name: 'not a whole number', yaml: 'http:\n  port: 80.5\n', code: 'invalid_type', path: 'http.port', message: /whole number/ },
      { name: 'section of the wrong type', yaml: 'routes: [a, b]\n', code: 'invalid_type', path: 'routes', message: /mapping/ },
      { name: 'port out of range', yaml: 'dimse:\n  port: 0\n', code: 'out_of_range', path: 'dimse.port', line: 2, message: /at least 1/ },
      {
        name: 'stable time under one second',
        yaml: 'routes:\n  default:\n    stableSeconds: 0.5\n',
        code: 'invalid_type',
        path: 'routes.default.stableSeconds',
        line: 3,
      },
      { name: 'stable time zero', yaml: 'routes:\n  default:\n    stableSeconds: 0\n', code: 'out_of_range', path: 'routes.default.stableSeconds', line: 3 },
      { name: 'retention days negative', yaml: 'routes:\n  ct:\n    retentionDays: -1\n', code: 'out_of_range', path: 'routes.ct.retentionDays' },
      { name: 'empty SOP class list', yaml: 'routes:\n  ct:\n    acceptSopClasses: []\n', code: 'out_of_range', path: 'routes.ct.acceptSopClasses', message: /at least 1 item/ },
      { name: 'empty profile', yaml: 'routes:\n  ct:\n    deidentification: { profile: "" }\n', code: 'out_of_range', path: 'routes.ct.deidentification.profile', message: /cannot be empty/ },
      { name: 'required field', yaml: 'remoteAEs:\n  - route: default\n', code: 'required', path: 'remoteAEs[0].aeTitle', line: 2, message: /is required/ },
      { name: 'destination without kind', yaml: 'destinations:\n  pacs: { aeTitle: P, host: h, port: 104 }\n', code: 'required', path: 'destinations.pacs.kind', message: /"dimse", "dicomweb"/ },
      { name: 'destination of unknown kind', yaml: 'destinations:\n  pacs: { kind: ftp }\n', code: 'invalid_value', path: 'destinations.pacs.kind' },
      { name: 'AE title too long', yaml: 'dimse: { aeTitle: ABCDEFGHIJKLMNOPQ }\n', code: 'invalid_value', path: 'dimse.aeTitle', message: /16 characters/ },
      { name: 'AE title only spaces', yaml: 'dimse: { aeTitle: "   " }\n', code: 'invalid_value', path: 'dimse.aeTitle', message: /only spaces/ },
      { name: 'AE title with backslash', yaml: 'remoteAEs: [{ aeTitle: "A\\\\B" }]\n', code: 'invalid_value', path: 'remoteAEs[0].aeTitle', message: /backslash/ },
      { name: 'AE title with a control character', yaml: 'remoteAEs: [{ aeTitle: "A\\tB" }]\n', code: 'invalid_value', path: 'remoteAEs[0].aeTitle', message: /control/ },
      { name: 'empty AE title', yaml: 'destinations:\n  p: { kind: dimse, aeTitle: "", host: h, port: 104 }\n', code: 'invalid_value', path: 'destinations.p.aeTitle' },
      { name: 'bad address', yaml: 'remoteAEs: [{ aeTitle: A, addresses: [10.0.0.300] }]\n', code: 'invalid_value', path: 'remoteAEs[0].addresses[0]' },
      { name: 'bad CIDR prefix', yaml: 'remoteAEs: [{ aeTitle: A, addresses: [10.0.0.0/33] }]\n', code: 'invalid_value', path: 'remoteAEs[0].addresses[0]' },
      { name: 'empty address list', yaml: 'remoteAEs: [{ aeTitle: A, addresses: [] }]\n', code: 'out_of_range', path: 'remoteAEs[0].addresses' },
      { name: 'bad SOP Class UID', yaml: 'routes:\n  ct:\n    acceptSopClasses: [1.2.840.10008.5.1.4.1.1.02]\n', code: 'invalid_value', path: 'routes.ct.acceptSopClasses[0]', message: /UID/ },
      { name: 'bad private element', yaml: 'routes:\n  ct:\n    deidentification:\n      safePrivateAllowlist: [{ creator: X, element: "(0043,0027)" }]\n', code: 'invalid_value', path: 'routes.ct.deidentification.safePrivateAllowlist[0].element' },
      { name: 'even private group', yaml: 'routes:\n  ct:\n    deidentification:\n      safePrivateAllowlist: [{ creator: X, element: "(0042,xx27)" }]\n', code: 'invalid_value', path: 'routes.ct.deidentification.safePrivateAllowlist[0].element', message: /not a private group/ },
      { name: 'bad route name', yaml: 'routes:\n  "ct chest": {}\n', code: 'invalid_value', path: 'routes.ct chest', message: /name/ },
      { name: 'bad database URL', yaml: 'database: { url: "mysql://x/y" }\n', code: 'invalid_value', path: 'database.url' },
      { name: 'sqlite URL with a host', yaml: 'database: { url: "sqlite://host/x.db" }\n', code: 'invalid_value', path: 'database.url' },
      { name: 'DICOMweb URL not http', yaml: 'destinations:\n  a: { kind: dicomweb, url: "ftp://x/y" }\n', code: 'invalid_value', path: 'destinations.a.url' },
      { name: 'credentials in a DICOMweb URL', yaml: 'destinations:\n  a: { kind: dicomweb, url: "https://u:p@x/y" }\n', code: 'invalid_value', path: 'destinations.a.url', message: /auth/ },
      { name: 'two auth forms', yaml: 'destinations:\n  a:\n    kind: dicomweb\n    url: https://x/y\n    auth: { bearerTokenFile: t, basic: { user: u, passwordFile: p } }\n', code: 'invalid_value', path: 'destinations.a.auth', message: /exactly one/ },
      { name: 'bad bind host', yaml: 'http: { host: "local host" }\n', code: 'invalid_value', path: 'http.host' },
      { name: 'an IPv4 address out of range', yaml: 'http: { host: 999.1.1.1 }\n', code: 'invalid_value', path: 'http.host' },
      { name: 'PDU too small', yaml: 'dimse: { maxPduLength: 1024 }\n', code: 'out_of_range', path: 'dimse.maxPduLength' },
      { name: 'PDU larger than Limen can announce', yaml: 'dimse: { maxPduLength: 1048576 }\n', code: 'out_of_range', path: 'dimse.maxPduLength', message: /262144/ },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const error = onlyError(c.yaml);
        expect(error).to.include({ code: c.code, path: c.path });
        if (c.line !== undefined) expect(error.line).to.equal(c.line);
        if (c.message !== undefined) expect(error.message).to.match(c.message);
      });
    }
  });

  describe('unknown keys', () => {
    it('are errors, one per key, pointing at the key, with a suggestion for a typo', () => {
      const errors = expectErrors(loadYaml('http:\n  prot: 8080\nroutes:\n  default:\n    stableSecond: 5\n    foo: 1\nfrobnicate: true\n'));
      expect(errors.map((e) => [e.code, e.path, e.line])).to.deep.equal([
        ['unknown_key', 'http.prot', 2],
        ['unknown_key', 'routes.default.stableSecond', 5],
        ['unknown_key', 'routes.default.foo', 6],
        ['unknown_key', 'frobnicate', 7],
      ]);
      expect(errors[0].message).to.equal('unknown key "prot"; did you mean "port"?');
      expect(errors[0].column).to.equal(3);
      expect(errors[1].message).to.contain('did you mean "stableSeconds"?');
      expect(errors[2].message).to.equal('unknown key "foo"');
    });

    it('inside lists and destinations too', () => {
      const errors = expectErrors(
        loadYaml('remoteAEs:\n  - aeTitle: A\n    adresses: [10.0.0.1]\ndestinations:\n  p: { kind: dimse, aeTitle: P, host: h, port: 104, tls: true }\n'),
      );
      expect(errors.map((e) => e.path)).to.deep.equal(['remoteAEs[0].adresses', 'destinations.p.tls']);
      expect(errors[0].message).to.contain('did you mean "addresses"?');
    });
  });

  describe('cross-field rules', () => {
    it('a remote AE bound to a route that does not exist', () => {
      const error = onlyError('remoteAEs:\n  - aeTitle: CT1\n    route: chest\n');
      expect(error).to.include({ code: 'unknown_route', path: 'remoteAEs[0].route', line: 3 });
      expect(error.message).to.contain('"chest"').and.contain('default');
    });

    it('a route sending to a destination that does not exist', () => {
      const error = onlyError('destinations:\n  pacs: { kind: dimse, aeTitle: P, host: h, port: 104 }\nroutes:\n  default:\n    destinations: [pacs, archive]\n');
      expect(error).to.include({ code: 'unknown_destination', path: 'routes.default.destinations[1]', line: 5 });
      expect(error.message).to.contain('"archive"').and.contain('pacs');
    });

    it('two remote AEs with one AE title (spaces do not count)', () => {
      const error = onlyError('remoteAEs:\n  - aeTitle: CT1\n  - aeTitle: "CT1 "\n');
      expect(error).to.include({ code: 'duplicate_ae_title', path: 'remoteAEs[1].aeTitle' });
      expect(error.message).to.contain('remoteAEs[0]');
    });

    it('two routes that both accept any caller', () => {
      const error = onlyError('routes:\n  a: { acceptAnyCaller: true }\n  b: { acceptAnyCaller: true }\n');
      expect(error).to.include({ code: 'ambiguous_route', path: 'routes.b.acceptAnyCaller' });
    });

    it('HTTP and DIMSE on the same port', () => {
      expect(onlyError('http: { port: 11112 }\n')).to.include({ code: 'port_conflict', path: 'dimse.port' });
      expect(expectErrors(loadYaml('http: { host: 0.0.0.0, port: 9000 }\ndimse: { port: 9000 }\n'))[0].code).to.equal('port_conflict');
      // Different addresses may share a port number.
      expect(loadYaml('http: { host: 127.0.0.2, port: 9000 }\ndimse: { port: 9000 }\n').ok).to.equal(true);
    });

    it('DIMSE over TLS on the plain DIMSE port or on HTTP’s', () => {
      const tls = (port: number) => `dimse: { port: 11112, tls: { port: ${port}, certificateFile: a.crt, privateKeyFile: a.key } }\n`;
      expect(onlyError(tls(11112))).to.include({ code: 'port_conflict', path: 'dimse.tls.port' });
      expect(onlyError(tls(8080))).to.include({ code: 'port_conflict', path: 'dimse.tls.port' });
      expect(loadYaml(tls(2762)).ok).to.equal(true);
    });

    it('a remote AE that requires TLS when the DIMSE listener has none', () => {
      const error = onlyError('remoteAEs:\n  - aeTitle: CT1\n    tlsRequired: true\n');
      expect(error).to.include({ code: 'tls_not_configured', path: 'remoteAEs[0].tlsRequired', line: 3 });
      expect(error.message).to.contain('dimse.tls');
    });

    it('a DIMSE destination with a TLS certificate but no key', () => {
      const error = onlyError('destinations:\n  pacs: { kind: dimse, aeTitle: P, host: h, port: 2762, tls: { certificateFile: a.crt } }\n');
      expect(error).to.include({ path: 'destinations.pacs.tls' });
      expect(error.message).to.contain('certificateFile and privateKeyFile together');
    });

    it('a remote AE bound to certificates when the DIMSE listener has no TLS, and a fingerprint that is not one', () => {
      const pin = 'ab'.repeat(32);
      expect(onlyError(`remoteAEs:\n  - aeTitle: CT1\n    tlsCertificateSha256: [${pin}]\n`)).to.include({ code: 'tls_not_configured', path: 'remoteAEs[0].tlsCertificateSha256' });
      const error = onlyError('dimse: { tls: { certificateFile: a.crt, privateKeyFile: a.key } }\nremoteAEs:\n  - aeTitle: CT1\n    tlsCertificateSha256: [ab:cd]\n');
      expect(error).to.include({ path: 'remoteAEs[0].tlsCertificateSha256[0]' });
      expect(error.message).to.contain('64 hexadecimal digits');
    });

    it('a revocation list without the CA whose certificates it revokes', () => {
      const error = onlyError('dimse: { tls: { certificateFile: a.crt, privateKeyFile: a.key, callerCrlFile: ca.crl } }\n');
      expect(error).to.include({ code: 'required', path: 'dimse.tls.callerCaFile' });
    });

    it('an error whose own field is not written points at the field that caused it, not at an unrelated line', () => {
      // dimse.port is left to its default: the line is http.port's, not line 2 (dataDir).
      const conflict = onlyError('# c\ndataDir: ./var\nhttp:\n  port: 11112\n');
      expect(conflict).to.include({ code: 'port_conflict', path: 'dimse.port', line: 4, column: 9 });
      expect(formatConfigErrors([conflict])).to.equal('dimse.port (line 4, column 9): http.port is also 11112: HTTP and DIMSE need different ports');
      // Written, the error's own field is where it points.
      expect(onlyError('http:\n  port: 9000\ndimse:\n  port: 9000\n  host: 127.0.0.1\n')).to.include({ path: 'dimse.port', line: 4 });
      expect(onlyError('dimse: { tls: { certificateFile: a.crt, privateKeyFile: a.key,\n  callerCrlFile: ca.crl } }\n')).to.include({ path: 'dimse.tls.callerCaFile', line: 2 });
    });

    it('names the variable that set a field causing the error, and then gives no line of the file', () => {
      const scratch = scratchDir();
      try {
        const file = scratch.write('limen.yaml', '# no dimse section\nroutes:\n  default: {}\n');
        const errors = expectErrors(loadConfig({ file, env: { LIMEN_DIMSE_HOST: '0.0.0.0' }, cwd: scratch.dir }));
        expect(errors).to.have.length(1);
        expect(errors[0]).to.include({ code: 'callers_not_listed', path: 'remoteAEs' });
        expect(errors[0].line).to.equal(undefined);
        expect(errors[0].message).to.match(/^dimse\.host is 0\.0\.0\.0, .* \(dimse\.host set by LIMEN_DIMSE_HOST\)$/);
        // Both ends of a conflict from the environment: each variable named.
        const both = expectErrors(loadConfig({ file, env: { LIMEN_HTTP_PORT: '9000', LIMEN_DIMSE_PORT: '9000' }, cwd: scratch.dir }));
        expect(both.map((e) => [e.path, e.variable, e.line])).to.deep.equal([['dimse.port', 'LIMEN_DIMSE_PORT', undefined]]);
        expect(both[0].message).to.equal('http.port is also 9000: HTTP and DIMSE need different ports (set by LIMEN_DIMSE_PORT) (http.port set by LIMEN_HTTP_PORT)');
      } finally {
        scratch.cleanup();
      }
    });

    it('a TLS listener without its certificate or key', () => {
      const errors = expectErrors(loadYaml('dimse: { tls: { port: 2762 } }\n'));
      expect(errors.map((e) => [e.code, e.path])).to.deep.equal([
        ['required', 'dimse.tls.certificateFile'],
        ['required', 'dimse.tls.privateKeyFile'],
      ]);
    });
  });

  it('collects every error of a configuration at once', () => {
    const yaml = [
      'dataDir: 42', // 1 invalid_type
      'http:',
      '  port: 99999', // 3 out_of_range
      '  hots: 0.0.0.0', // 4 unknown_key
      'dimse:',
      '  host: 0.0.0.0',
      '  aeTitle: THIS_AE_TITLE_IS_TOO_LONG', // 7 invalid_value
      'remoteAEs:',
      '  - aeTitle: CT1',
      '    route: ct', // 10 unknown_route
      '    addresses: [10.0.0.1, nope]', // 11 invalid_value
      '  - aeTitle: CT1', // 12 duplicate
      'routes:',
      '  default:',
      '    stableSeconds: 0', // 15 out_of_range
      '    acceptAnyCaller: true', // 16 callers_not_listed
      '    destinations: [pacs]', // 17 unknown_destination
      'destinations:',
      '  x: { host: h }', // 19 required kind
    ].join('\n');
    const errors = expectErrors(loadYaml(yaml, { LIMEN_HTTP_PORT: 'abc' }));
    const summary = errors.map((e) => `${e.code} ${e.path}${e.line !== undefined ? `@${e.line}` : ''}`);
    expect(summary).to.have.members([
      'invalid_env http.port',
      'invalid_type dataDir@1',
      'out_of_range http.port@3',
      'unknown_key http.hots@4',
      'invalid_value dimse.aeTitle@7',
      'unknown_route remoteAEs[0].route@10',
      'invalid_value remoteAEs[0].addresses[1]@11',
      'duplicate_ae_title remoteAEs[1].aeTitle@12',
      'out_of_range routes.default.stableSeconds@15',
      'callers_not_listed routes.default.acceptAnyCaller@16',
      'unknown_destination routes.default.destinations[0]@17',
      'required destinations.x.kind@19',
    ]);
    expect(errors).to.have.length(12);
  });

  it('formatConfigErrors writes one line per error: path, where, message', () => {
    const text = formatConfigErrors([
      { code: 'out_of_range', path: 'routes.default.stableSeconds', message: 'must be at least 1', line: 15, column: 20 },
      { code: 'invalid_env', path: 'http.port', message: 'LIMEN_HTTP_PORT must be a whole number (a port), got "x"', variable: 'LIMEN_HTTP_PORT' },
      { code: 'file_unreadable', path: '', message: 'cannot read /x: no such file' },
    ]);
    expect(text.split('\n')).to.deep.equal([
      'routes.default.stableSeconds (line 15, column 20): must be at least 1',
      'http.port: LIMEN_HTTP_PORT must be a whole number (a port), got "x"',
      'config: cannot read /x: no such file',
    ]);
  });

  it('loadConfigOrThrow throws a ConfigLoadError carrying every error', () => {
    const scratch = scratchDir();
    try {
      const file = scratch.write('bad.yaml', 'http: { port: 0 }\ndimse: { port: 0 }\n');
      let thrown: unknown;
      try {
        loadConfigOrThrow({ file, env: {} });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).to.be.instanceOf(ConfigLoadError);
      const error = thrown as ConfigLoadError;
      expect(error.errors.map((e) => e.path)).to.deep.equal(['http.port', 'dimse.port']);
      expect(error.message).to.contain('http.port (line 1').and.contain('dimse.port (line 2');
    } finally {
      scratch.cleanup();
    }
  });

  it('validateConfig checks data (an admin change) with the same rules, and no line numbers', () => {
    const bad = validateConfig({ routes: { default: { stableSeconds: 0 } }, remoteAEs: [{ aeTitle: 'A', route: 'nope' }] }, { baseDir: '/srv' });
    expect(bad.ok).to.equal(false);
    if (bad.ok) return;
    expect(bad.errors.map((e) => [e.code, e.path, e.line])).to.deep.equal([
      ['out_of_range', 'routes.default.stableSeconds', undefined],
      ['unknown_route', 'remoteAEs[0].route', undefined],
    ]);
    const good = validateConfig({ dataDir: 'd' }, { baseDir: '/srv' });
    expect(good.ok && good.config.dataDir).to.equal('/srv/d');
    expect(validateConfig([], { baseDir: '/' }).ok).to.equal(false);
  });
});
