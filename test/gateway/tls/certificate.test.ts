/** What the gateway logs of the certificates it serves: fingerprint and expiry, read from openssl-made PEM. */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CERTIFICATE_RENEWAL_DAYS, renewalDue, renewalWarning, servedCertificate } from '../../../gateway/tls/index.js';
import { requirePeers } from '../../support/peers.js';
import { createTestPki, type TestPki } from '../../support/tls-certificates.js';

describe('tls: the certificate Limen serves', () => {
  let pki: TestPki;
  const openssl = (...args: string[]) => execFileSync('openssl', ['x509', '-in', pki.server.certificate, '-noout', ...args], { encoding: 'utf8' }).split('=')[1].trim();

  before(function () {
    requirePeers(this, 'openssl');
    pki = createTestPki();
  });
  after(() => pki?.remove());

  it('is named by the SHA-256 fingerprint openssl gives, and expires when openssl says', () => {
    const served = servedCertificate(readFileSync(pki.server.certificate));
    expect(served.sha256).to.equal(openssl('-fingerprint', '-sha256').replace(/:/g, '').toLowerCase());
    expect(served.notAfter.getTime()).to.equal(new Date(openssl('-enddate')).getTime());
  });

  it('is due for renewal within 30 days of its end, counted down past it', () => {
    const served = servedCertificate(readFileSync(pki.server.certificate)); // valid for 2 days
    const day = 86_400_000;
    expect(renewalDue(served, new Date(served.notAfter.getTime() - (CERTIFICATE_RENEWAL_DAYS + 1) * day))).to.equal(undefined);
    expect(renewalDue(served, new Date(served.notAfter.getTime() - 10.5 * day))).to.equal(10);
    expect(renewalDue(served, new Date(served.notAfter.getTime() + 1.5 * day))).to.equal(-2);
  });

  it('is warned of by the setting that names it, differently once expired', () => {
    const served = servedCertificate(readFileSync(pki.server.certificate));
    const end = served.notAfter.toISOString();
    expect(renewalWarning('dimse.tls.certificateFile', served, new Date(served.notAfter.getTime() - 40 * 86_400_000))).to.equal(undefined);
    expect(renewalWarning('dimse.tls.certificateFile', served, new Date(served.notAfter.getTime() - 3 * 86_400_000))).to.equal(`dimse.tls.certificateFile: the certificate expires on ${end} (in 3 days)`);
    expect(renewalWarning('http.tls.certificateFile', served, new Date(served.notAfter.getTime() + 1000))).to.equal(`http.tls.certificateFile: the certificate expired on ${end}; callers refuse it`);
  });
});
