/**
 * DICOM over TLS (PS3.15 BCP 195 profiles) against DCMTK built with OpenSSL: echoscu and
 * storescu with `+tls`, certificates from a throwaway CA made by the openssl command, and a
 * hand-written peer for what DCMTK will not do (no certificate, plain DICOM on the TLS port).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { join } from 'node:path';
import { DimseScpService, StorageSopClass, type DimseScpEvent, type DimseTlsOptions } from '../../../gateway/dimse/index.js';
import { createLogger } from '../../../gateway/log/index.js';
import { requirePeers } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { createTestPki, type TestPki } from '../../support/tls-certificates.js';
import { readPart10, RecordingIngest, runTool } from './helpers.js';
import { associateRq, RawPeer } from './raw-pdu.js';

const CT_DIR = 'test/fixtures/ct-fakephi/dicom';
const VERIFICATION = { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] };

async function startScp(tls: DimseTlsOptions, options: { artimTimeoutMs?: number } = {}) {
  const ingest = new RecordingIngest();
  const events: DimseScpEvent[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const scp = new DimseScpService(
    { host: '127.0.0.1', port: 0, aeTitle: 'LIMEN', acceptedSopClasses: [StorageSopClass.CTImage], tls, ...options },
    {
      ingest,
      associate: () => ({ accept: true, route: 'default' }),
      logger: createLogger({ write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
      onEvent: (e) => events.push(e),
    },
  );
  await scp.start();
  return { scp, ingest, events, logs, tlsPort: String(scp.tlsAddress!.port), plainPort: String(scp.address!.port) };
}

/** The certificate's SHA-256 fingerprint as openssl prints it, lower-case hex without colons. */
function fingerprint(certificate: string): string {
  const out = execFileSync('openssl', ['x509', '-in', certificate, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  return out.split('=')[1].trim().replace(/:/g, '').toLowerCase();
}

describe('gateway/dimse DICOM over TLS with DCMTK', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let ctx: Awaited<ReturnType<typeof startScp>>;
  const tlsArgs = (who: { certificate: string; privateKey: string }) => ['+tls', who.privateKey, who.certificate, '+cf', pki.caCertificate];

  before(async function () {
    requirePeers(this, 'dcmtk', 'openssl');
    pki = createTestPki();
    ctx = await startScp({ port: 0, certificate: pki.read(pki.server.certificate), privateKey: pki.read(pki.server.privateKey), callerCa: pki.read(pki.caCertificate) });
  });
  after(async () => {
    await ctx?.scp.stop();
    pki?.remove();
  });

  it('listens for TLS on a port of its own, on the configured host only, beside the plain one', () => {
    expect(ctx.scp.tlsAddress?.host).to.equal('127.0.0.1');
    expect(ctx.tlsPort).to.not.equal(ctx.plainPort);
  });

  it('answers C-ECHO over TLS to a caller whose certificate chains to the caller CA, and names that certificate', async () => {
    const r = await runTool('echoscu', ['-d', '-aet', 'MODALITY', '-aec', 'LIMEN', ...tlsArgs(pki.modality), '127.0.0.1', ctx.tlsPort]);
    expect(r.status, r.output).to.equal(0);
    expect(r.output).to.contain('Received Echo Response (Success)');
    // DCMTK checked Limen's certificate against the CA (its default: +cf given, peer certificate required).
    expect(r.output).to.match(/Transport connection: TLS over TCP\/IP/);
    expect(r.output).to.match(/Protocol\s+: TLSv1\.[23]/);
    const accepted = ctx.events.filter((e) => e.type === 'association-accepted').at(-1);
    expect(accepted).to.include({ transport: 'tls', peerCertificateSha256: fingerprint(pki.modality.certificate) });
  });

  it('receives instances over TLS byte for byte', async () => {
    const files = readdirSync(CT_DIR).sort().slice(0, 5).map((f) => join(CT_DIR, f));
    const before = ctx.ingest.received.length;
    const r = await runTool('storescu', ['-aet', 'MODALITY', '-aec', 'LIMEN', ...tlsArgs(pki.modality), '127.0.0.1', ctx.tlsPort, ...files]);
    expect(r.status, r.output).to.equal(0);
    const received = ctx.ingest.received.slice(before);
    expect(received).to.have.length(5);
    for (const [i, file] of files.entries()) expect(received[i].bytes.equals(readPart10(file).dataSet), file).to.equal(true);
  });

  it('rejects a caller whose certificate another CA signed (1/1/3) and records why', async () => {
    const r = await runTool('echoscu', ['-v', '-aet', 'MODALITY', '-aec', 'LIMEN', ...tlsArgs(pki.stranger), '127.0.0.1', ctx.tlsPort]);
    expect(r.status).to.not.equal(0);
    expect(r.output).to.contain('Result: Rejected Permanent, Source: Service User');
    expect(r.output).to.contain('Reason: Calling AE Title Not Recognized');
    expect(ctx.events.at(-1)).to.include({
      type: 'association-rejected',
      reason: 'certificate-not-trusted',
      certificateError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      peerCertificateSha256: fingerprint(pki.stranger.certificate),
    });
  });

  it('rejects a caller whose certificate its CA revoked, with the caller CA’s revocation list', async () => {
    const crl = pki.revoke(pki.modality.certificate);
    const strict = await startScp({ port: 0, certificate: pki.read(pki.server.certificate), privateKey: pki.read(pki.server.privateKey), callerCa: pki.read(pki.caCertificate), callerCrl: pki.read(crl) });
    try {
      const r = await runTool('echoscu', ['-aet', 'MODALITY', '-aec', 'LIMEN', ...tlsArgs(pki.modality), '127.0.0.1', strict.tlsPort]);
      expect(r.output).to.contain('Reason: Calling AE Title Not Recognized');
      expect(strict.events.at(-1)).to.include({ type: 'association-rejected', reason: 'certificate-not-trusted', certificateError: 'CERT_REVOKED' });
    } finally {
      await strict.scp.stop();
    }
  });

  it('rejects a caller that presents no certificate', async () => {
    const peer = await RawPeer.openTls(Number(ctx.tlsPort), { ca: pki.read(pki.caCertificate), servername: 'localhost' });
    peer.send(associateRq('LIMEN', 'MODALITY', [VERIFICATION]));
    const answer = await peer.next();
    expect(answer?.type).to.equal(0x03);
    expect([...answer!.body.subarray(1, 4)]).to.deep.equal([1, 1, 3]);
    await peer.waitClosed();
    expect(ctx.events.at(-1)).to.include({ type: 'association-rejected', reason: 'certificate-not-trusted', certificateError: 'NO_CERTIFICATE_PRESENTED' });
  });

  it('closes a plain DICOM connection to the TLS port, says what it was, and goes on serving', async () => {
    const peer = await RawPeer.open(Number(ctx.tlsPort));
    peer.send(associateRq('LIMEN', 'MODALITY', [VERIFICATION]));
    await peer.waitClosed();
    const failed = ctx.logs.filter((l) => l.id === 'dimse.tls.handshake-failed').at(-1);
    expect(failed).to.include({ remoteAddress: '127.0.0.1' });
    expect(failed?.reason).to.match(/did not start a TLS handshake/);
    const again = await runTool('echoscu', ['-aet', 'MODALITY', '-aec', 'LIMEN', ...tlsArgs(pki.modality), '127.0.0.1', ctx.tlsPort]);
    expect(again.status, again.output).to.equal(0);
    const plain = await runTool('echoscu', ['-aet', 'MODALITY', '-aec', 'LIMEN', '127.0.0.1', ctx.plainPort]);
    expect(plain.status, plain.output).to.equal(0);
    expect(ctx.events.at(-1)).to.include({ type: 'association-released', transport: 'tcp' });
  });

  it('without a caller CA asks callers for no certificate', async () => {
    const open = await startScp({ port: 0, certificate: pki.read(pki.server.certificate), privateKey: pki.read(pki.server.privateKey) });
    try {
      const peer = await RawPeer.openTls(Number(open.tlsPort));
      peer.send(associateRq('LIMEN', 'MODALITY', [VERIFICATION]));
      expect((await peer.next())?.type).to.equal(0x02);
      await peer.release();
      expect(open.events.at(-1)).to.include({ type: 'association-released', transport: 'tls' });
      expect(open.events.at(-1)).to.not.have.property('peerCertificateSha256');
    } finally {
      await open.scp.stop();
    }
  });

  it('speaks TLS 1.2 with forward-secret AES-GCM suites only, and TLS 1.3; refuses TLS 1.1, CBC suites and renegotiation', async () => {
    const sClient = (...args: string[]) =>
      runTool('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${ctx.tlsPort} -CAfile ${pki.caCertificate} -cert ${pki.modality.certificate} -key ${pki.modality.privateKey} ${args.join(' ')}`]);
    expect((await sClient('-tls1_3')).output).to.match(/New, TLSv1\.3, Cipher is TLS_AES_256_GCM_SHA384/);
    expect((await sClient('-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256')).output).to.match(/New, TLSv1\.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
    for (const refused of [['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA'], ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES256-SHA384'], ['-tls1_1']]) {
      const r = await sClient(...refused);
      expect(r.status, refused.join(' ')).to.not.equal(0);
      expect(r.output, refused.join(' ')).to.not.match(/Cipher is (?!\(NONE\))/);
    }
    // A renegotiation could change who is on the other end after the association was accepted.
    const socket = connectTls({ host: '127.0.0.1', port: Number(ctx.tlsPort), ca: pki.read(pki.caCertificate), cert: pki.read(pki.modality.certificate), key: pki.read(pki.modality.privateKey), maxVersion: 'TLSv1.2', servername: 'localhost' });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const refusal = new Promise<Error>((resolve) => socket.once('error', resolve));
    socket.renegotiate({}, () => {});
    expect((await refusal).message).to.match(/no renegotiation/);
    socket.destroy();
  });

  it('closes a connection whose handshake does not end within the ARTIM time, and does not wait for one to stop', async () => {
    const quick = await startScp({ port: 0, certificate: pki.read(pki.server.certificate), privateKey: pki.read(pki.server.privateKey) }, { artimTimeoutMs: 300 });
    const silent = await RawPeer.open(Number(quick.tlsPort));
    await silent.waitClosed(3000);
    expect(quick.logs.filter((l) => l.id === 'dimse.tls.handshake-failed').at(-1)).to.include({ code: 'ERR_TLS_HANDSHAKE_TIMEOUT' });
    await quick.scp.stop();

    const patient = await startScp({ port: 0, certificate: pki.read(pki.server.certificate), privateKey: pki.read(pki.server.privateKey) });
    const held = await RawPeer.open(Number(patient.tlsPort));
    const started = Date.now();
    await patient.scp.stop();
    expect(Date.now() - started, 'stop waited for a handshake that never came').to.be.lessThan(5000);
    await held.waitClosed(1000);
  });

  it('fails to start with listen-failed when the TLS port is taken, and leaves the plain port free', async () => {
    const taken = ctx.scp.tlsAddress!.port;
    const plainPort = await freePort();
    const other = new DimseScpService(
      { host: '127.0.0.1', port: plainPort, aeTitle: 'LIMEN', acceptedSopClasses: [], tls: { port: taken, certificate: pki.read(pki.server.certificate), privateKey: pki.read(pki.server.privateKey) } },
      { ingest: new RecordingIngest(), associate: () => ({ accept: true, route: 'default' }), logger: createLogger({ write: () => {} }) },
    );
    const error = await other.start().catch((e: Error & { code?: string }) => e);
    expect(error).to.include({ code: 'listen-failed' });
    expect(other.status).to.equal('failed');
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(plainPort, '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses a certificate and key that do not belong together, naming tls', () => {
    expect(
      () =>
        new DimseScpService(
          { host: '127.0.0.1', port: 0, aeTitle: 'LIMEN', acceptedSopClasses: [], tls: { port: 0, certificate: pki.read(pki.server.certificate), privateKey: pki.read(pki.modality.privateKey) } },
          { ingest: new RecordingIngest(), associate: () => ({ accept: true, route: 'default' }), logger: createLogger({ write: () => {} }) },
        ),
    ).to.throw(/tls: the certificate, key or caller CA cannot be used: .*key values mismatch/);
  });
});
