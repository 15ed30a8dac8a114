/**
 * Orthanc as the hospital PACS, the whole way: run inside a loopback-only network namespace by
 * delivery.test.ts (Orthanc 1.10 binds every interface). Orthanc holds ct-fakephi and a second
 * study of the same patient and pushes both to Limen; the pipeline runs; a reviewer approves
 * the first through the API and rejects the second. Prints one JSON line (PacsResult).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dicom, scanResidualPhi } from '../../../../anonymizer/index.js';
import { CT_FAKEPHI_FILES, CT_FAKEPHI_UIDS, CT_FAKEPHI_VALUES } from '../../../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../../../support/gateway.js';
import { OrthancPeer, pacsDestinationsYaml } from '../../../support/orthanc.js';
import { freePort } from '../../../support/ports.js';
import { copyAsNewStudy } from '../../../support/series-copy.js';
import { runPeer } from '../../../support/peers.js';
import { until } from '../../../support/wait.js';

const { T, find, readPart10, stringOf } = dicom;

export interface PacsResult {
  ok: boolean;
  error?: string;
  /** Orthanc's instance count per study before any decision, by original StudyInstanceUID. */
  beforeDecision?: Record<string, number>;
  approved?: { studyInstanceUID: string; decisionStatus: number; exports: string[] };
  /** SEG instances Orthanc received, with what it filed them under. */
  segsReceived?: Array<{ patientID: string; patientName: string; studyInstanceUID: string; referencesOriginalSeries: boolean; dciodvfyErrors: string[] }>;
  /** The approved SEG sent once more (as after a crash mid-send): the job's end, and the SEGs Orthanc then holds. */
  resend?: { status: string; segInstances: number };
  rejected?: { decisionStatus: number; segsForStudy: number; exportJobs: number };
  /** The review.rejected event's detail, as the audit trail keeps it. */
  rejectedEvent?: Record<string, unknown>;
  reviewQueue?: number;
  auditTypes?: string[];
  /** Destination and transport of each `exported` event. */
  exportedTransports?: Array<[unknown, unknown]>;
  exportJobs?: Array<{ status: string; destination: string }>;
  phiHits?: number;
  timings?: Record<string, number>;
}

async function main(): Promise<PacsResult> {
  const work = mkdtempSync(join(tmpdir(), 'limen-pacs-'));
  let orthanc: OrthancPeer | undefined;
  let gw: TestGateway | undefined;
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  try {
    const limenDimse = await freePort();
    orthanc = await OrthancPeer.start({ dir: join(work, 'orthanc'), modalities: { limen: ['LIMEN', '127.0.0.1', limenDimse] }, dicomweb: true });
    gw = await startTestGateway(
      `
remoteAEs:
  - aeTitle: ORTHANC
    route: default
${pacsDestinationsYaml(orthanc)}
routes:
  default:
    stableSeconds: 1
    destinations: [pacs-dimse, pacs-stow]
export:
  retryDelaysSeconds: [1, 2]
`,
      { dimse: limenDimse },
    );
    const reviewer = (await gw.storage.createToken({ role: 'reviewer', user: 'dr-review', ttlSeconds: 3600 })).token;
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${gw!.base}${path}`, { method, headers: { authorization: `Bearer ${reviewer}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: (await r.json()) as any };
    };

    // Orthanc holds two studies of the patient and pushes them to Limen.
    const second = copyAsNewStudy(CT_FAKEPHI_FILES, join(work, 'second'), 7);
    const studies = await orthanc.upload([...CT_FAKEPHI_FILES, ...second]);
    const originalOf = async (id: string) => ((await orthanc!.rest('GET', `/studies/${id}`)) as { MainDicomTags: { StudyInstanceUID: string } }).MainDicomTags.StudyInstanceUID;
    const ids = new Map<string, string>();
    for (const id of studies) ids.set(await originalOf(id), id);
    for (const id of studies) await orthanc.storeTo('limen', [id]);
    timings.pushed = (Date.now() - t0) / 1000;

    // The pipeline runs for both.
    const reviews = await until(async () => {
      const r = await api('GET', '/api/v1/reviews?status=pending');
      return r.body.reviews?.length === 2 ? (r.body.reviews as any[]) : undefined;
    }, 240_000, 'two studies awaiting review', 500);
    timings.processed = (Date.now() - t0) / 1000;

    const countInOrthanc = async (original: string) => ((await orthanc!.rest('GET', `/studies/${ids.get(original)}/instances`)) as unknown[]).length;
    const secondOriginal = stringOf(find(readPart10(readFileSync(second[0])).dataset, T.StudyInstanceUID))!;
    const beforeDecision = { [CT_FAKEPHI_UIDS.studyInstanceUID]: await countInOrthanc(CT_FAKEPHI_UIDS.studyInstanceUID), [secondOriginal]: await countInOrthanc(secondOriginal) };

    // Which review is which: the linkage says (the vault), seen here only by the test.
    const originalStudyOf = async (pseudonym: string) => {
      const records = await gw!.storage.vault.open(pseudonym);
      const uids = new Map((records[0].record as { uids: [string, string][] }).uids.map(([o, n]) => [n, o]));
      return uids.get(pseudonym);
    };
    let first: any;
    let other: any;
    for (const r of reviews) ((await originalStudyOf(r.studyInstanceUID)) === CT_FAKEPHI_UIDS.studyInstanceUID ? (first = r) : (other = r));

    const approve = await api('POST', `/api/v1/reviews/${first.studyInstanceUID}/decision`, { decision: 'approve', comment: 'bone and skin look right', segSOPInstanceUID: first.seg.sopInstanceUID, glbSha256: first.glb.sha256 });
    const reject = await api('POST', `/api/v1/reviews/${other.studyInstanceUID}/decision`, { decision: 'reject', comment: 'table included in the body surface' });

    // Orthanc receives the SEG, filed under the original patient and study, by both destinations:
    // the same object both times (the same UIDs), so it holds it once.
    const findSegs = async () => (await orthanc!.rest('POST', '/tools/find', Buffer.from(JSON.stringify({ Level: 'Instance', Query: { Modality: 'SEG' } })))) as string[];
    const exportsEnded = async () => {
      const jobs = await gw!.storage.jobs.list({ type: 'export', studyInstanceUID: first.studyInstanceUID });
      return jobs.length > 0 && jobs.every((j) => j.status === 'done' || j.status === 'dead') ? jobs : undefined;
    };
    await until(exportsEnded, 60_000, 'both export jobs ended', 500);
    const segInstances = await findSegs();
    timings.delivered = (Date.now() - t0) / 1000;
    const segsReceived: PacsResult['segsReceived'] = [];
    for (const id of segInstances) {
      const bytes = await orthanc.file(id);
      const ds = readPart10(bytes).dataset;
      const file = join(work, `seg-${id}.dcm`);
      writeFileSync(file, bytes);
      const refSeries = find(ds, 0x00081115)?.items?.[0];
      segsReceived.push({
        patientID: stringOf(find(ds, T.PatientID)) ?? '',
        patientName: stringOf(find(ds, T.PatientName)) ?? '',
        studyInstanceUID: stringOf(find(ds, T.StudyInstanceUID)) ?? '',
        referencesOriginalSeries: stringOf(find(refSeries ?? [], T.SeriesInstanceUID)) === CT_FAKEPHI_UIDS.seriesInstanceUID,
        dciodvfyErrors: runPeer('dciodvfy', [file]).stderr.split('\n').filter((l) => l.startsWith('Error')),
      });
    }
    // Sent once more, as a retry after a crash mid-send would: still the one SEG in Orthanc.
    const again = await gw.storage.jobs.enqueue('export', first.studyInstanceUID, { destination: 'pacs-dimse' }, { maxAttempts: 1 });
    const resent = await until(async () => {
      const job = (await gw!.storage.jobs.list({ type: 'export', studyInstanceUID: first.studyInstanceUID })).find((j) => j.id === again.id);
      return job && (job.status === 'done' || job.status === 'dead') ? job : undefined;
    }, 60_000, 'the resend ended', 500);
    const resend = { status: resent.status, segInstances: (await findSegs()).length };
    // Give a wrongly sent rejected result time to show up before concluding it did not.
    await new Promise((r) => setTimeout(r, 3000));
    const segsForSecond = ((await orthanc.rest('GET', `/studies/${ids.get(secondOriginal)}/series`)) as Array<{ MainDicomTags: { Modality: string } }>).filter((s) => s.MainDicomTags.Modality === 'SEG').length;
    const jobs = (await gw.storage.jobs.list({ type: 'export' })).filter((j) => j.id !== again.id);
    const events = await gw.storage.audit.list({ limit: 5000 } as never);

    // No PHI in what the viewer or API received: the review queue as served.
    const served = await api('GET', '/api/v1/reviews');
    const phi = scanResidualPhi([{ name: 'reviews', bytes: Buffer.from(JSON.stringify(served.body)) }, { name: 'logs', bytes: Buffer.from(gw.logs.join('')) }], CT_FAKEPHI_VALUES);

    return {
      ok: true,
      beforeDecision,
      approved: { studyInstanceUID: first.studyInstanceUID, decisionStatus: approve.status, exports: approve.body.exports },
      segsReceived,
      resend,
      rejected: { decisionStatus: reject.status, segsForStudy: segsForSecond, exportJobs: jobs.filter((j) => j.studyInstanceUID === other.studyInstanceUID).length },
      rejectedEvent: events.find((e: { type: string; studyInstanceUID: string | null }) => e.type === 'review.rejected' && e.studyInstanceUID === other.studyInstanceUID)?.detail,
      reviewQueue: served.body.reviews.length,
      auditTypes: [...new Set(events.map((e: { type: string }) => e.type))].sort(),
      exportedTransports: events.filter((e) => e.type === 'exported').map((e) => [e.detail.destination, e.detail.transport] as [unknown, unknown]),
      exportJobs: jobs.map((j) => ({ status: j.status, destination: (j.payload as { destination: string }).destination })),
      phiHits: phi.length,
      timings,
    };
  } finally {
    await gw?.dispose().catch(() => {});
    await orthanc?.stop().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

const stop = () => process.exit(143);
process.once('SIGTERM', stop);
main().then(
  (r) => process.stdout.write(JSON.stringify(r) + '\n'),
  (e: Error) => process.stdout.write(JSON.stringify({ ok: false, error: e.stack ?? e.message }) + '\n'),
);
