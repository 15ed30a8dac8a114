import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configWarnings, environmentWarnings, KNOWN_VARIABLES } from '../../config/index.js';
import { expectConfig, loadYaml } from './helpers.js';

describe('config: warnings (valid, but exposed)', () => {
  it('HTTP beyond loopback without TLS', () => {
    const warnings = configWarnings(expectConfig(loadYaml('http: { host: 0.0.0.0 }\n')));
    expect(warnings.map((w) => [w.code, w.path])).to.deep.equal([['plaintext_http', 'http.tls']]);
    expect(warnings[0].message).to.contain('0.0.0.0');
  });
  it('HTTP beyond loopback without TLS, but behind a TLS proxy: an https public URL, no warning', () => {
    expect(configWarnings(expectConfig(loadYaml('http: { host: 0.0.0.0, publicUrl: "https://pacs.hospital.example" }\n')))).to.deep.equal([]);
    const plain = configWarnings(expectConfig(loadYaml('http: { host: 0.0.0.0, publicUrl: "http://pacs.hospital.example" }\n')));
    expect(plain.map((w) => w.code)).to.deep.equal(['plaintext_http']);
    expect(plain[0].message).to.contain('http.publicUrl');
  });

  it('an AE that must use TLS when nothing authenticates it: no caller CA, no certificate of its own', () => {
    const tls = 'dimse: { tls: { certificateFile: a.crt, privateKeyFile: a.key } }\n';
    const warnings = configWarnings(expectConfig(loadYaml(`${tls}remoteAEs:\n  - { aeTitle: CT1, tlsRequired: true }\n  - { aeTitle: CT2, tlsRequired: true, tlsCertificateSha256: ["${'ab'.repeat(32)}"] }\n`)));
    expect(warnings.map((w) => [w.code, w.path])).to.deep.equal([['tls_caller_unauthenticated', 'remoteAEs[0].tlsRequired']]);
    const withCa = 'dimse: { tls: { certificateFile: a.crt, privateKeyFile: a.key, callerCaFile: ca.crt } }\nremoteAEs:\n  - { aeTitle: CT1, tlsRequired: true }\n';
    expect(configWarnings(expectConfig(loadYaml(withCa)))).to.deep.equal([]);
  });

  it('a destination beyond loopback reached in the clear, by DIMSE or by plain HTTP', () => {
    const yaml = [
      'destinations:',
      '  pacs: { kind: dimse, aeTitle: PACS, host: 10.20.0.10, port: 104 }',
      '  secure: { kind: dimse, aeTitle: PACS, host: 10.20.0.10, port: 2762, tls: { caFile: ca.crt } }',
      '  local: { kind: dimse, aeTitle: PACS, host: 127.0.0.1, port: 104 }',
      '  archive: { kind: dicomweb, url: "http://archive.hospital.example/dicomweb" }',
      '  https: { kind: dicomweb, url: "https://archive.hospital.example/dicomweb" }',
      '  sidecar: { kind: dicomweb, url: "http://[::1]:8042/dicom-web" }',
    ].join('\n');
    const warnings = configWarnings(expectConfig(loadYaml(yaml)));
    expect(warnings.map((w) => [w.code, w.path])).to.deep.equal([
      ['plaintext_destination', 'destinations.pacs.tls'],
      ['plaintext_destination', 'destinations.archive.url'],
    ]);
  });

  it('beyond loopback, a caller backed by neither an address list nor a certificate', () => {
    const yaml = [
      'dimse: { host: 0.0.0.0, tls: { certificateFile: a.crt, privateKeyFile: a.key } }',
      'remoteAEs:',
      '  - { aeTitle: CT1 }',
      '  - { aeTitle: CT2, addresses: [10.1.2.3] }',
      `  - { aeTitle: CT3, tlsRequired: true, tlsCertificateSha256: ["${'ab'.repeat(32)}"] }`,
      '  - { aeTitle: CT4, tlsRequired: true }',
    ].join('\n');
    const warnings = configWarnings(expectConfig(loadYaml(yaml)));
    expect(warnings.map((w) => [w.code, w.path])).to.deep.equal([
      ['tls_caller_unauthenticated', 'remoteAEs[3].tlsRequired'],
      ['caller_unauthenticated', 'remoteAEs[0].addresses'],
      ['caller_unauthenticated', 'remoteAEs[3].addresses'],
    ]);
    expect(warnings[1].message).to.equal('any host that reaches 0.0.0.0 can call as CT1: list its addresses, or require TLS with a certificate');
  });

  it('a reviewer group, which tokens cannot carry yet', () => {
    const warnings = configWarnings(expectConfig(loadYaml('routes:\n  default: { reviewerGroup: thoracic }\n')));
    expect(warnings.map((w) => [w.code, w.path])).to.deep.equal([['reviewer_group_unenforced', 'routes.default.reviewerGroup']]);
  });

  it('retention settings, which nothing acts on yet: the expiry is recorded, nothing destroyed', () => {
    const warnings = configWarnings(expectConfig(loadYaml('routes:\n  default: { retentionDays: 7 }\n  ct: {}\nretention:\n  sweepIntervalMinutes: 5\n')));
    expect(warnings.map((w) => [w.code, w.path])).to.deep.equal([
      ['retention_unenforced', 'routes.default.retentionDays'],
      ['retention_unenforced', 'retention'],
    ]);
    expect(warnings[0].message).to.equal("not enforced yet: each study's expiry (7 days after it arrived) is recorded and shown by the API, but nothing is destroyed then");
    expect(warnings[1].message).to.equal('not used yet: no retention sweep runs, so no expired study is destroyed');
    // Left to its default, nothing to warn of: an empty section says nothing either.
    expect(configWarnings(expectConfig(loadYaml('routes:\n  default: {}\nretention: {}\n')))).to.deep.equal([]);
  });

  it('none on loopback, nor beyond it with TLS', () => {
    expect(configWarnings(expectConfig(loadYaml('')))).to.deep.equal([]);
    expect(configWarnings(expectConfig(loadYaml('http: { host: 0.0.0.0, tls: { certificateFile: a.crt, privateKeyFile: a.key } }\n')))).to.deep.equal([]);
  });
});

describe('config: warnings of the environment', () => {
  it('a misspelt LIMEN_* variable, which nothing reads, with the known name nearest to it', () => {
    const warnings = environmentWarnings({ LIMEN_DIMSE_HOSTS: '0.0.0.0', LIMEN_MASTERKEY: 'k', LIMEN_HTTP_PROT: '80', LIMEN_WHATEVER: '1', PATH: '/bin' });
    expect(warnings.map((w) => [w.code, w.path, w.message])).to.deep.equal([
      ['unknown_variable', 'LIMEN_DIMSE_HOSTS', 'Limen reads no such variable, so it is ignored; did you mean LIMEN_DIMSE_HOST?'],
      ['unknown_variable', 'LIMEN_HTTP_PROT', 'Limen reads no such variable, so it is ignored; did you mean LIMEN_HTTP_PORT?'],
      ['unknown_variable', 'LIMEN_MASTERKEY', 'Limen reads no such variable, so it is ignored; did you mean LIMEN_MASTER_KEY?'],
      ['unknown_variable', 'LIMEN_WHATEVER', 'Limen reads no such variable, so it is ignored'],
    ]);
  });

  it('none for a variable some part of Limen reads: the overrides, the CLI’s, the install script’s, the tests’ and benchmarks’', () => {
    expect(environmentWarnings(Object.fromEntries(KNOWN_VARIABLES.map((v) => [v, 'x'])))).to.deep.equal([]);
    // Every LIMEN_* name the code reads from the environment is known.
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const read = new Set<string>();
    for (const dir of ['anonymizer', 'bench', 'config', 'gateway', 'pipeline', 'scripts', 'storage', 'test']) {
      for (const f of readdirSync(join(root, dir), { recursive: true }).map(String)) {
        if (!/\.(ts|mjs|js)$/.test(f)) continue;
        const text = readFileSync(join(root, dir, f), 'utf8');
        for (const m of text.matchAll(/(?:env\.|env\[['"]|_ENV = ['"])(LIMEN_[A-Z0-9_]+)/g)) read.add(m[1]);
      }
    }
    expect(read.size).to.be.above(5);
    expect([...read].filter((v) => !KNOWN_VARIABLES.includes(v))).to.deep.equal([]);
  });
});
