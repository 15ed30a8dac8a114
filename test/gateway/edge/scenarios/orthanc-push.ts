/**
 * Orthanc as the modality: run inside a network namespace with loopback only (Orthanc 1.10
 * binds every interface), by orthanc-modality.test.ts:
 *
 *   unshare -n sh -c 'ip link set lo up && exec node --import tsx test/gateway/edge/scenarios/orthanc-push.ts'
 *
 * Starts Limen in process and a throwaway Orthanc that knows Limen as a modality twice (plain,
 * and over DICOM TLS with a certificate from a test CA), uploads ct-fakephi to Orthanc, has
 * Orthanc push the study to Limen with `POST /modalities/limen/store`, then again over TLS
 * (every instance a resend, counted once), waits for the study to complete, scans Limen's data dir for residual PHI, stops what it
 * started and prints one JSON line (OrthancPushResult) on stdout. Anything else goes to stderr.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMasterKey } from '../../../../config/index.js';
import { gatewayIdentifiers } from '../../../../gateway/process/identifiers.js';
import { PROCESS_JOB } from '../../../../storage/index.js';
import { CT_FAKEPHI_FILES, CT_FAKEPHI_UIDS, phiAtRest } from '../../../support/fakephi.js';
import { readTree, type NamedBytes } from '../../../support/files.js';
import { startTestGateway, type TestGateway } from '../../../support/gateway.js';
import { OrthancPeer, type OrthancStoreResult } from '../../../support/orthanc.js';
import { freePort } from '../../../support/ports.js';
import { createTestPki, type TestPki } from '../../../support/tls-certificates.js';
import { until } from '../../../support/wait.js';

/** What the scenario prints. */
export interface OrthancPushResult {
  ok: boolean;
  error?: string;
  orthancVersion?: string;
  uploaded?: { instances: number; studies: number };
  store?: OrthancStoreResult;
  /** The same push over DICOM TLS. */
  tlsStore?: OrthancStoreResult;
  /** Transport of the associations ORTHANC opened, in order, and the certificate it presented over TLS. */
  transports?: Array<{ transport: unknown; peerCertificateSha256?: unknown }>;
  /** SHA-256 of Orthanc's certificate, for comparison. */
  orthancCertificateSha256?: string;
  studies?: Array<{ studyInstanceUID: string; status: string; seriesCount: number; instanceCount: number; route: string }>;
  /** The stored study UID is the keyed replacement of the original (and so not the original). */
  studyUIDIsKeyedReplacement?: boolean;
  /** The first status after 'receiving' (later ones belong to the pipeline). */
  statusAfterWait?: string;
  /** `study.complete` audit events for the study. */
  completeEvents?: number;
  processJobs?: number;
  association?: { accepted: string[]; rejected: number };
  scannedFiles?: number;
  decryptedInstances?: number;
  phiHits?: Array<{ source: string; needle: string; offset: number }>;
  /** Seconds spent in each step, for keeping the suite fast. */
  timings?: Record<string, number>;
}

const DEADLINE_MS = 60_000;

const config = (pki: TestPki, tlsPort: number) => `
dimse:
  tls:
    port: ${tlsPort}
    certificateFile: ${pki.server.certificate}
    privateKeyFile: ${pki.server.privateKey}
    callerCaFile: ${pki.caCertificate}
remoteAEs:
  - aeTitle: ORTHANC
    route: default
routes:
  default:
    stableSeconds: 1
# The edge alone: processing is another suite's business.
worker:
  enabled: false
`;

let gw: TestGateway | undefined;
let pki: TestPki | undefined;
let orthanc: OrthancPeer | undefined;
let work: string | undefined;
let cleaned: Promise<void> | undefined;

function cleanup(): Promise<void> {
  return (cleaned ??= (async () => {
    // Orthanc takes seconds to shut down: stop both at once.
    await Promise.all([
      orthanc?.stop().catch((e: Error) => process.stderr.write(`stopping Orthanc: ${e.message}\n`)),
      gw?.dispose().catch((e: Error) => process.stderr.write(`stopping Limen: ${e.message}\n`)),
    ]);
    if (work) rmSync(work, { recursive: true, force: true });
    pki?.remove();
  })());
}

async function scenario(): Promise<OrthancPushResult> {
  const timings: Record<string, number> = {};
  const result: OrthancPushResult = { ok: false, timings };
  let mark = performance.now();
  const lap = (step: string) => {
    const now = performance.now();
    timings[step] = Math.round(now - mark) / 1000;
    mark = now;
  };
  pki = createTestPki();
  gw = await startTestGateway(config(pki, await freePort()));
  work = mkdtempSync(join(tmpdir(), 'limen-orthanc-'));
  orthanc = await OrthancPeer.start({
    dir: work,
    aeTitle: 'ORTHANC',
    modalities: { limen: ['LIMEN', '127.0.0.1', gw.dimse.port], 'limen-tls': { AET: 'LIMEN', Host: '127.0.0.1', Port: gw.dimseTls!.port, UseDicomTls: true } },
    tls: { certificate: pki.modality.certificate, privateKey: pki.modality.privateKey, trusted: pki.caCertificate },
  });
  result.orthancCertificateSha256 = createHash('sha256').update(new X509Certificate(readFileSync(pki.modality.certificate)).raw).digest('hex');
  result.orthancVersion = ((await (await fetch(`${orthanc.base}/system`)).json()) as { Version: string }).Version;
  lap('start');

  const orthancStudies = await orthanc.upload(CT_FAKEPHI_FILES);
  const stats = await orthanc.statistics();
  result.uploaded = { instances: stats.CountInstances, studies: stats.CountStudies };
  lap('upload');

  result.store = await orthanc.storeTo('limen', orthancStudies);
  lap('store');
  result.tlsStore = await orthanc.storeTo('limen-tls', orthancStudies);
  lap('store over TLS');

  const admin = (await gw.storage.createToken({ role: 'admin', ttlSeconds: 600 })).token;
  const api = async (path: string) => {
    const r = await fetch(`${gw!.base}${path}`, { headers: { authorization: `Bearer ${admin}` } });
    if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Record<string, unknown>>;
  };
  const listed = (await api('/api/v1/studies')).studies as NonNullable<OrthancPushResult['studies']>;
  result.studies = listed.map(({ studyInstanceUID, status, seriesCount, instanceCount, route }) => ({ studyInstanceUID, status, seriesCount, instanceCount, route }));

  const key = decodeMasterKey(readFileSync(join(gw.dataDir, 'var', 'master.key'), 'utf8'));
  if (!key) throw new Error('the generated master.key could not be decoded');
  const expectedStudy = gatewayIdentifiers(key).uid(CT_FAKEPHI_UIDS.studyInstanceUID);
  result.studyUIDIsKeyedReplacement = listed.length === 1 && listed[0].studyInstanceUID === expectedStudy && expectedStudy !== CT_FAKEPHI_UIDS.studyInstanceUID;

  if (listed.length > 0) {
    const uid = listed[0].studyInstanceUID;
    result.statusAfterWait = await until(async () => {
      const s = (await api(`/api/v1/studies/${uid}`)) as { status: string };
      return s.status !== 'receiving' ? s.status : undefined;
    }, 15_000, 'the study to complete').catch(() => 'receiving');
    result.completeEvents = (await gw.storage.audit.list({ type: 'study.complete', studyInstanceUID: uid })).length;
    result.processJobs = (await gw.storage.jobs.list({ type: PROCESS_JOB, studyInstanceUID: uid })).length;
  }

  lap('complete');
  const events = await gw.storage.audit.list({ limit: 10_000 });
  result.association = {
    accepted: events.filter((e) => e.type === 'association.accepted').map((e) => e.actor ?? ''),
    rejected: events.filter((e) => e.type === 'association.rejected').length,
  };
  result.transports = events
    .filter((e) => e.type === 'association.accepted' && e.actor === 'ORTHANC')
    .map((e) => ({ transport: e.detail.transport, ...(e.detail.peerCertificateSha256 !== undefined && { peerCertificateSha256: e.detail.peerCertificateSha256 }) }));

  // No PHI at rest: every file of the data dir, every decrypted blob, every log line.
  const files: NamedBytes[] = readTree(gw.dataDir);
  let decrypted = 0;
  for (const s of listed) {
    for (const i of await gw.storage.listInstances(s.studyInstanceUID)) {
      const blob = await gw.storage.getInstanceBlob(i.sopInstanceUID);
      if (!blob) throw new Error(`instance ${i.sopInstanceUID} is listed but has no blob`);
      files.push({ name: `decrypted ${i.sopInstanceUID}`, bytes: blob.bytes });
      decrypted += 1;
    }
  }
  files.push({ name: 'limen log', bytes: Buffer.from(gw.logs.join('')) });
  result.scannedFiles = files.length;
  result.decryptedInstances = decrypted;
  result.phiHits = phiAtRest(files).map((h) => ({ source: h.source, needle: h.needle, offset: h.offset }));
  lap('scan');
  result.ok = true;
  return result;
}

async function main(): Promise<number> {
  const stop = (signal: string) => {
    process.stderr.write(`${signal}: stopping the scenario\n`);
    void cleanup().then(() => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  const deadline = setTimeout(() => stop(`no result within ${DEADLINE_MS} ms`), DEADLINE_MS);

  let result: OrthancPushResult;
  try {
    result = await scenario();
  } catch (err) {
    result = { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    if (orthanc) result.error += `\n--- Orthanc log ---\n${orthanc.log().slice(-4000)}`;
  }
  const t = performance.now();
  await cleanup();
  clearTimeout(deadline);
  result.timings = { ...result.timings, cleanup: Math.round(performance.now() - t) / 1000, total: Math.round(performance.now()) / 1000 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.ok ? 0 : 1;
}

main().then((code) => {
  process.exitCode = code;
});
