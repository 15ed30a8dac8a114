/**
 * The certificates Limen presents, watched: each one's end in /metrics, checked against what
 * openssl reads from the file, and a renewal warning at start, on each check and for a
 * destination's client certificate as its file is renewed.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../../config/index.js';
import { createLogger } from '../../../gateway/log/index.js';
import { MetricsRegistry } from '../../../gateway/metrics/index.js';
import { CertificateWatch, destinationCertificates, listenerCertificates } from '../../../gateway/services/certificate-watch.js';
import { servedCertificate } from '../../../gateway/tls/index.js';
import { requirePeers } from '../../support/peers.js';
import { createTestPki, type TestPki } from '../../support/tls-certificates.js';
import { until } from '../../support/wait.js';

describe('gateway/services certificate watch', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let dir: string;
  let clientCertificate: string;

  /** The certificate's end as openssl reads it, in Unix seconds. */
  const opensslEnd = (file: string) => {
    const end = execFileSync('openssl', ['x509', '-in', file, '-noout', '-enddate'], { encoding: 'utf8' }).trim().replace(/^notAfter=/, '');
    return Date.parse(end) / 1000;
  };
  const gaugeOf = (registry: MetricsRegistry, setting: string) => {
    const line = registry.render().split('\n').find((l) => l.startsWith(`limen_tls_certificate_expiry_timestamp_seconds{setting="${setting}"}`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };
  const config = () => {
    const r = validateConfig({
      destinations: {
        pacs: { kind: 'dimse', aeTitle: 'PACS', host: '127.0.0.1', port: 11113, tls: { certificateFile: clientCertificate, privateKeyFile: pki.modality.privateKey } },
        archive: { kind: 'dimse', aeTitle: 'ARCHIVE', host: '127.0.0.1', port: 11114, tls: { certificateFile: join(dir, 'missing.crt'), privateKeyFile: join(dir, 'missing.key') } },
        plain: { kind: 'dimse', aeTitle: 'PLAIN', host: '127.0.0.1', port: 11115 },
      },
    }, { baseDir: dir, cwd: dir });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.config;
  };
  const watch = (now?: Date, intervalMs?: number) => {
    const registry = new MetricsRegistry();
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'debug', write: (l) => logs.push(JSON.parse(l) as Record<string, unknown>) });
    const w = new CertificateWatch({ registry, logger, destinations: () => destinationCertificates(config()), ...(now && { now: () => now }), ...(intervalMs && { intervalMs }) });
    w.serving(listenerCertificates({ dimse: servedCertificate(pki.read(pki.server.certificate)) }));
    const warnings = () => logs.filter((l) => l.id === 'gateway.tls.certificate-expiring');
    return { w, registry, warnings };
  };

  before(function () {
    requirePeers(this, 'openssl');
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'limen-watch-'));
    clientCertificate = join(dir, 'client.crt');
    copyFileSync(pki.modality.certificate, clientCertificate);
  });
  after(() => {
    pki?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('puts each certificate’s end in /metrics by its setting, as openssl reads it; an unreadable file is left out', async () => {
    const { w, registry } = watch();
    await w.start();
    await w.stop();
    expect(gaugeOf(registry, 'dimse.tls.certificateFile')).to.equal(opensslEnd(pki.server.certificate));
    expect(gaugeOf(registry, 'destinations.pacs.tls.certificateFile')).to.equal(opensslEnd(pki.modality.certificate));
    expect(gaugeOf(registry, 'destinations.archive.tls.certificateFile')).to.equal(undefined);
    expect(registry.render()).to.match(/^# TYPE limen_tls_certificate_expiry_timestamp_seconds gauge$/m);
  });

  it('takes a certificate out of /metrics once its file can no longer be read', async () => {
    const { w, registry } = watch();
    await w.start();
    await w.stop();
    expect(gaugeOf(registry, 'destinations.pacs.tls.certificateFile')).to.equal(opensslEnd(pki.modality.certificate));
    try {
      writeFileSync(clientCertificate, 'not a certificate');
      w.check();
      expect(gaugeOf(registry, 'destinations.pacs.tls.certificateFile')).to.equal(undefined);
      expect(gaugeOf(registry, 'dimse.tls.certificateFile')).to.equal(opensslEnd(pki.server.certificate));
    } finally {
      copyFileSync(pki.modality.certificate, clientCertificate);
    }
  });

  it('warns of those due for renewal at start, and of none while renewal is not due', async () => {
    const due = watch();
    await due.w.start();
    await due.w.stop();
    expect(due.warnings().map((l) => l.path)).to.deep.equal(['dimse.tls.certificateFile', 'destinations.pacs.tls.certificateFile']);
    expect(due.warnings()[1].msg).to.match(/^destinations\.pacs\.tls\.certificateFile: the certificate expires on \S+Z \(in [01] days\)$/);

    const early = watch(new Date(Date.now() - 40 * 86_400_000));
    await early.w.start();
    await early.w.stop();
    expect(early.warnings()).to.deep.equal([]);
  });

  it('looks again on every interval, reading a destination’s renewed file, until stopped', async () => {
    const { w, registry, warnings } = watch(undefined, 20);
    await w.start();
    try {
      await until(async () => (warnings().length >= 6 ? true : undefined));
      // A second later, so that the renewal ends later than the original (certificates count in seconds).
      await new Promise((r) => setTimeout(r, 1100));
      const renewed = pki.renewServer('client-renewed');
      copyFileSync(renewed.certificate, clientCertificate);
      const end = opensslEnd(renewed.certificate);
      expect(end).to.be.greaterThan(opensslEnd(pki.modality.certificate));
      await until(async () => (gaugeOf(registry, 'destinations.pacs.tls.certificateFile') === end ? true : undefined));
    } finally {
      await w.stop();
      copyFileSync(pki.modality.certificate, clientCertificate);
    }
    const seen = warnings().length;
    await new Promise((r) => setTimeout(r, 100));
    expect(warnings().length).to.equal(seen);
  });
});
