/**
 * HTTPS through the whole gateway, with curl as the client: the configuration's certificate,
 * STOW-RS and the session cookie over TLS (the cookie then Secure), plain HTTP refused on the
 * port, and a start refused with the setting that is wrong.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { curl, multipartRelated } from '../../support/curl.js';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { requirePeers } from '../../support/peers.js';
import { runTool } from '../dimse/helpers.js';
import { createTestPki, type TestPki } from '../../support/tls-certificates.js';

const config = (pki: TestPki, privateKeyFile = pki.server.privateKey) => `
http:
  tls:
    certificateFile: ${pki.server.certificate}
    privateKeyFile: ${privateKeyFile}
worker:
  enabled: false
`;

describe('http: HTTPS with curl', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let gw: TestGateway;
  let work: string;
  let base: string;
  const https = (args: string[]) => curl(['--cacert', pki.caCertificate, ...args]);

  before(async function () {
    requirePeers(this, 'openssl');
    pki = createTestPki();
    gw = await startTestGateway(config(pki));
    base = `https://127.0.0.1:${gw.http.port}`;
    work = mkdtempSync(join(tmpdir(), 'limen-https-'));
  });
  after(async () => {
    await gw?.dispose();
    pki?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('serves over TLS with the configured certificate, which curl verifies against the CA', async () => {
    const r = await https(['-v', `${base}/healthz`]);
    expect(r.status, r.stderr).to.equal(200);
    expect(r.stderr).to.match(/SSL connection using TLSv1\.[23]/);
    expect(r.stderr).to.match(/subject: CN=limen\.test/);
    expect(gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.id === 'http.listening')).to.include({ scheme: 'https' });
  });

  it('offers TLS 1.2 only with forward-secret AES-GCM suites, as the DIMSE listener does', async () => {
    const sClient = (cipher: string) => runTool('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${gw.http.port} -CAfile ${pki.caCertificate} -tls1_2 -cipher ${cipher}`]);
    expect((await sClient('ECDHE-ECDSA-AES256-GCM-SHA384')).output).to.match(/New, TLSv1\.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384/);
    expect((await sClient('ECDHE-ECDSA-AES128-SHA')).status).to.not.equal(0);
  });

  it('stores a STOW-RS request over HTTPS', async () => {
    const token = (await gw.storage.createToken({ role: 'modality', ttlSeconds: 600 })).token;
    const { body, contentType } = multipartRelated(CT_FAKEPHI_FILES.slice(0, 2).map((f) => readFileSync(f)));
    const file = join(work, 'body');
    writeFileSync(file, body);
    const r = await https(['-X', 'POST', '-H', `Authorization: Bearer ${token}`, '-H', `Content-Type: ${contentType}`, '--data-binary', `@${file}`, `${base}/dicomweb/studies`]);
    expect(r.status, r.body).to.equal(200);
    expect((await gw.storage.listStudies()).studies[0].instanceCount).to.equal(2);
  });

  it('marks the session cookie Secure over HTTPS', async () => {
    const token = (await gw.storage.createToken({ role: 'reviewer', ttlSeconds: 600 })).token;
    const r = await https(['-i', '-X', 'POST', '-H', `Authorization: Bearer ${token}`, '-H', `Origin: ${base}`, `${base}/api/v1/session`]);
    const cookie = r.body.split('\r\n').find((line) => /^set-cookie:/i.test(line));
    expect(cookie, r.body).to.match(/;\s*Secure/i).and.match(/HttpOnly/i);
  });

  it('does not answer plain HTTP on the HTTPS port', async () => {
    const r = await curl([`http://127.0.0.1:${gw.http.port}/healthz`]);
    expect(r.status).to.not.equal(200);
    expect(r.exitCode).to.not.equal(0);
  });

  it('does not start with a key that is not the certificate’s, and says which setting', async () => {
    const started = await startTestGateway(config(pki, pki.modality.privateKey)).catch((e: Error) => e);
    if (!(started instanceof Error)) await started.dispose();
    expect((started as Error).message).to.match(/^http\.tls: the certificate or key cannot be used: .*key values mismatch/);
  });
});
