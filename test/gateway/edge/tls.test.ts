/**
 * DICOM over TLS through the whole gateway: the configuration's TLS listener, a remote AE that
 * may only come over it, the audit trail of both transports, and a start refused with the
 * setting that is wrong. DCMTK's echoscu and storescu with `+tls` are the callers.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { CT_FAKEPHI_FILES, CT_FAKEPHI_UIDS } from '../../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { dcmtk } from '../../support/dcmtk.js';
import { requirePeers } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { createTestPki, type TestPki } from '../../support/tls-certificates.js';

const config = (pki: TestPki, tlsPort: number, files: { certificateFile?: string; privateKeyFile?: string } = {}) => `
dimse:
  tls:
    port: ${tlsPort}
    certificateFile: ${files.certificateFile ?? pki.server.certificate}
    privateKeyFile: ${files.privateKeyFile ?? pki.server.privateKey}
    callerCaFile: ${pki.caCertificate}
remoteAEs:
  - aeTitle: SECURE
    tlsRequired: true
  - aeTitle: PLAIN
routes:
  default:
    stableSeconds: 1
worker:
  enabled: false
`;

describe('edge: DICOM over TLS into Limen with DCMTK', function () {
  this.timeout(120_000);
  let pki: TestPki;
  let gw: TestGateway;
  const tls = () => ['+tls', pki.modality.privateKey, pki.modality.certificate, '+cf', pki.caCertificate];

  before(async function () {
    requirePeers(this, 'dcmtk', 'openssl');
    pki = createTestPki();
    gw = await startTestGateway(config(pki, await freePort()));
  });
  after(async () => {
    await gw?.dispose();
    pki?.remove();
  });

  it('refuses an AE that requires TLS on the plain port, and records why', async () => {
    const r = await dcmtk('echoscu', ['-aet', 'SECURE', '-aec', 'LIMEN', '127.0.0.1', String(gw.dimse.port)]);
    expect(r.code).to.not.equal(0);
    expect(r.out).to.match(/Calling AE Title Not Recognized/);
    const rejected = (await gw.storage.audit.list({ type: 'association.rejected' })).at(-1);
    expect(rejected?.detail).to.include({ reason: 'tls-required', transport: 'tcp', callingAETitle: 'SECURE' });
  });

  it('stores what that AE sends over TLS, de-identified, and the trail shows the transport and certificate', async () => {
    const r = await dcmtk('storescu', ['-aet', 'SECURE', '-aec', 'LIMEN', ...tls(), '127.0.0.1', String(gw.dimseTls!.port), ...CT_FAKEPHI_FILES.slice(0, 3)]);
    expect(r.code, r.out).to.equal(0);
    const [study] = (await gw.storage.listStudies()).studies;
    expect(study.instanceCount).to.equal(3);
    expect(study.studyInstanceUID).to.not.equal(CT_FAKEPHI_UIDS.studyInstanceUID);
    const accepted = (await gw.storage.audit.list({ type: 'association.accepted' })).at(-1);
    const fingerprint = execFileSync('openssl', ['x509', '-in', pki.modality.certificate, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' })
      .split('=')[1]
      .trim()
      .replace(/:/g, '')
      .toLowerCase();
    expect(accepted?.detail).to.include({ callingAETitle: 'SECURE', transport: 'tls', peerCertificateSha256: fingerprint });
  });

  it('serves an AE without the requirement on either port', async () => {
    expect((await dcmtk('echoscu', ['-aet', 'PLAIN', '-aec', 'LIMEN', '127.0.0.1', String(gw.dimse.port)])).code).to.equal(0);
    expect((await dcmtk('echoscu', ['-aet', 'PLAIN', '-aec', 'LIMEN', ...tls(), '127.0.0.1', String(gw.dimseTls!.port)])).code).to.equal(0);
  });

  it('does not start with a certificate file it cannot read or a key that is not the certificate’s, and says which', async () => {
    const startFailure = async (yaml: string): Promise<Error | undefined> => {
      const started = await startTestGateway(yaml).catch((e: Error) => e);
      if (started instanceof Error) return started;
      await started.dispose();
      return undefined;
    };
    const missing = `${pki.dir}/nowhere.crt`;
    expect((await startFailure(config(pki, await freePort(), { certificateFile: missing })))?.message).to.equal(`dimse.tls.certificateFile: cannot read ${missing}: ENOENT`);
    expect((await startFailure(config(pki, await freePort(), { privateKeyFile: pki.modality.privateKey })))?.message).to.match(/^dimse\.tls: the certificate, key or CA cannot be used: .*key values mismatch/);
  });
});

describe('edge: a remote AE bound to its certificate (self-signed device certificates, no caller CA)', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let gw: TestGateway;
  const sha256 = (certificate: string) =>
    execFileSync('openssl', ['x509', '-in', certificate, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).split('=')[1].trim();

  before(async function () {
    requirePeers(this, 'dcmtk', 'openssl');
    pki = createTestPki();
    // The stranger's certificate stands for a device's own: signed by no CA Limen knows. Pinned as openssl prints it.
    gw = await startTestGateway(`
dimse:
  tls: { port: ${await freePort()}, certificateFile: ${pki.server.certificate}, privateKeyFile: ${pki.server.privateKey} }
remoteAEs:
  - aeTitle: CT_ROOM3
    tlsCertificateSha256: ["${sha256(pki.stranger.certificate)}"]
worker:
  enabled: false
`);
  });
  after(async () => {
    await gw?.dispose();
    pki?.remove();
  });

  const echo = (who: { certificate: string; privateKey: string } | undefined) =>
    dcmtk('echoscu', ['-aet', 'CT_ROOM3', '-aec', 'LIMEN', ...(who ? ['+tls', who.privateKey, who.certificate, '+cf', pki.caCertificate, '127.0.0.1', String(gw.dimseTls!.port)] : ['127.0.0.1', String(gw.dimse.port)])]);

  it('serves the AE over TLS with its own certificate', async () => {
    const r = await echo(pki.stranger);
    expect(r.code, r.out).to.equal(0);
    expect((await gw.storage.audit.list({ type: 'association.accepted' })).at(-1)?.detail).to.include({ callingAETitle: 'CT_ROOM3', transport: 'tls' });
  });

  it('refuses the AE title with another certificate, even one the hospital CA signed, and in the clear', async () => {
    expect((await echo(pki.modality)).out).to.match(/Calling AE Title Not Recognized/);
    expect((await gw.storage.audit.list({ type: 'association.rejected' })).at(-1)?.detail).to.include({ reason: 'certificate-not-allowed', transport: 'tls' });
    expect((await echo(undefined)).out).to.match(/Calling AE Title Not Recognized/);
    expect((await gw.storage.audit.list({ type: 'association.rejected' })).at(-1)?.detail).to.include({ reason: 'tls-required', transport: 'tcp' });
  });
});

