/**
 * TLS files renewed while the gateway runs, as SIGHUP reloads them: a renewed certificate on the
 * DICOM and HTTPS listeners, a caller CA's new CRL, and a file that cannot serve. openssl
 * s_client reads what each listener presents; DCMTK's echoscu and curl verify it against the CA.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PemFileError } from '../../../config/index.js';
import { curl } from '../../support/curl.js';
import { dcmtk } from '../../support/dcmtk.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { requirePeers } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { createTestPki, type TestPki } from '../../support/tls-certificates.js';
import { runTool } from '../dimse/helpers.js';

describe('edge: TLS files renewed while Limen runs (what SIGHUP reloads)', function () {
  this.timeout(120_000);
  let pki: TestPki;
  let gw: TestGateway;
  /** The files the configuration names (each listener its own), overwritten as an operator renewing them would. */
  let live: { dir: string; dimse: Pair; http: Pair; crl: string };
  type Pair = { certificate: string; privateKey: string };

  const sha256 = (certificate: string) =>
    execFileSync('openssl', ['x509', '-in', certificate, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).split('=')[1].trim().replace(/:/g, '').toLowerCase();
  /** The fingerprint of the certificate a listener presents to a new connection, as openssl s_client receives it. */
  const presented = async (port: number) => {
    const r = await runTool('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${port} 2>/dev/null | openssl x509 -noout -fingerprint -sha256`]);
    expect(r.status, r.output).to.equal(0);
    return r.stdout.split('=')[1].trim().replace(/:/g, '').toLowerCase();
  };
  const echo = (who: { certificate: string; privateKey: string }) =>
    dcmtk('echoscu', ['-aet', 'SECURE', '-aec', 'LIMEN', '+tls', who.privateKey, who.certificate, '+cf', pki.caCertificate, '127.0.0.1', String(gw.dimseTls!.port)]);
  const install = (from: Pair, ...to: Pair[]) => {
    for (const pair of to) {
      copyFileSync(from.certificate, pair.certificate);
      copyFileSync(from.privateKey, pair.privateKey);
    }
  };

  before(async function () {
    requirePeers(this, 'dcmtk', 'openssl');
    pki = createTestPki();
    const dir = mkdtempSync(join(tmpdir(), 'limen-tls-live-'));
    const pair = (name: string) => ({ certificate: join(dir, `${name}.crt`), privateKey: join(dir, `${name}.key`) });
    live = { dir, dimse: pair('dimse'), http: pair('https'), crl: join(dir, 'ca.crl') };
    install(pki.server, live.dimse, live.http);
    copyFileSync(pki.crl(), live.crl);
    gw = await startTestGateway(`
dimse:
  tls: { port: ${await freePort()}, certificateFile: ${live.dimse.certificate}, privateKeyFile: ${live.dimse.privateKey}, callerCaFile: ${pki.caCertificate}, callerCrlFile: ${live.crl} }
http:
  tls: { certificateFile: ${live.http.certificate}, privateKeyFile: ${live.http.privateKey} }
remoteAEs:
  - aeTitle: SECURE
    tlsRequired: true
worker:
  enabled: false
`);
  });
  after(async () => {
    await gw?.dispose();
    pki?.remove();
    if (live) rmSync(live.dir, { recursive: true, force: true });
  });

  it('warns at start that both listeners’ certificate is due for renewal (these are valid for 2 days), and serves their end in /metrics', async () => {
    const warnings = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.id === 'gateway.tls.certificate-expiring');
    expect(warnings.map((w) => w.path)).to.deep.equal(['dimse.tls.certificateFile', 'http.tls.certificateFile']);
    expect(warnings[0].msg).to.match(/^dimse\.tls\.certificateFile: the certificate expires on \S+ \(in [01] days\)$/);
    const metrics = await curl(['--cacert', pki.caCertificate, `https://127.0.0.1:${gw.http.port}/metrics`]);
    const end = Date.parse(execFileSync('openssl', ['x509', '-in', live.dimse.certificate, '-noout', '-enddate'], { encoding: 'utf8' }).trim().replace(/^notAfter=/, '')) / 1000;
    for (const setting of ['dimse.tls.certificateFile', 'http.tls.certificateFile']) {
      expect(metrics.body).to.contain(`limen_tls_certificate_expiry_timestamp_seconds{setting="${setting}"} ${end}\n`);
    }
  });

  it('serves a renewed certificate on both listeners once reloaded, which DCMTK and curl verify', async () => {
    const original = sha256(pki.server.certificate);
    expect(await presented(gw.dimseTls!.port)).to.equal(original);
    const renewed = pki.renewServer('limen-renewed');
    install(renewed, live.dimse, live.http);
    // Files alone change nothing: the listeners serve what they read until told to reload.
    expect(await presented(gw.dimseTls!.port)).to.equal(original);

    const reloaded = await gw.reloadTls();
    expect(reloaded.dimse?.sha256).to.equal(sha256(renewed.certificate));
    expect(reloaded.http?.sha256).to.equal(sha256(renewed.certificate));
    expect(await presented(gw.dimseTls!.port)).to.equal(sha256(renewed.certificate));
    expect(await presented(gw.http.port)).to.equal(sha256(renewed.certificate));
    const e = await echo(pki.modality);
    expect(e.code, e.out).to.equal(0);
    const h = await curl(['--cacert', pki.caCertificate, `https://127.0.0.1:${gw.http.port}/healthz`]);
    expect(h.status, h.stderr).to.equal(200);
    expect(gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.id === 'gateway.tls.reloaded')).to.deep.include({
      dimse: { sha256: sha256(renewed.certificate), notAfter: reloaded.dimse!.notAfter.toISOString() },
    });
  });

  it('refuses a certificate the CA revoked after the start, from the reload of its new CRL on', async () => {
    expect((await echo(pki.modality)).code).to.equal(0);
    copyFileSync(pki.revoke(pki.modality.certificate), live.crl);
    expect((await echo(pki.modality)).code, 'the CRL read at start still serves').to.equal(0);

    await gw.reloadTls();
    const refused = await echo(pki.modality);
    expect(refused.code).to.not.equal(0);
    expect(refused.out).to.match(/Calling AE Title Not Recognized/);
    expect((await gw.storage.audit.list({ type: 'association.rejected' })).at(-1)?.detail).to.include({ reason: 'certificate-not-trusted', certificateError: 'CERT_REVOKED', transport: 'tls' });
  });

  it('keeps serving what it had when a file cannot serve, and names the setting', async () => {
    const serving = await presented(gw.dimseTls!.port);
    copyFileSync(pki.stranger.privateKey, live.dimse.privateKey); // not the certificate's key
    const err = await gw.reloadTls().catch((e: Error) => e);
    expect(err).to.be.instanceOf(PemFileError);
    expect((err as Error).message).to.match(/^dimse\.tls: the certificate, key, CA or CRL cannot be used: .*key values mismatch/);
    expect(await presented(gw.dimseTls!.port)).to.equal(serving);
    expect(await presented(gw.http.port)).to.equal(serving);
    expect(gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.id === 'gateway.tls.reload-failed')?.level).to.equal('error');
  });

  it('changes no listener when one listener’s file cannot serve, though the other’s could', async () => {
    const serving = await presented(gw.dimseTls!.port);
    install(pki.renewServer('limen-again'), live.dimse); // a good renewal for DIMSE...
    copyFileSync(pki.stranger.privateKey, live.http.privateKey); // ...and a broken one for HTTPS
    const err = await gw.reloadTls().catch((e: Error) => e);
    expect((err as Error).message).to.match(/^http\.tls: the certificate or key cannot be used: .*key values mismatch/);
    expect(await presented(gw.dimseTls!.port)).to.equal(serving);
    expect(await presented(gw.http.port)).to.equal(serving);
  });
});
