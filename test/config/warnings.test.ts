import { expect } from 'chai';
import { configWarnings } from '../../config/index.js';
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

  it('none on loopback, nor beyond it with TLS', () => {
    expect(configWarnings(expectConfig(loadYaml('')))).to.deep.equal([]);
    expect(configWarnings(expectConfig(loadYaml('http: { host: 0.0.0.0, tls: { certificateFile: a.crt, privateKeyFile: a.key } }\n')))).to.deep.equal([]);
  });
});
