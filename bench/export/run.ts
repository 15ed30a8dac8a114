/**
 * Export of the approved SEG to the PACS (issue 5: ≤ 5 s for a 300-slice study), and the time
 * from the reviewer's Approve (the decision API call) until the PACS holds the SEG.
 *
 * The hospital side is Orthanc 1.10 with its DICOMweb plugin; Limen is the real gateway
 * (`startGateway`: DIMSE listener, HTTP app, process and export workers) with two routes, one
 * delivering by C-STORE and one by STOW-RS. For each route, Orthanc pushes a copy of the generated
 * 300-slice 512×512 CT (new study UIDs per copy) to Limen by C-STORE, as a PACS does; Limen
 * de-identifies and stores it, completes the study, runs the default model (bone and body), writes
 * the SEG, meshes it and opens a review. Then:
 *
 *   approve   a reviewer POSTs the decision to /api/v1/reviews/{study}/decision; timed until
 *             Orthanc's REST API finds the SEG in the original study (polled every 20 ms). The
 *             gateway's export worker looks for jobs once a second when idle, so the approvals are
 *             spread over that cycle.
 *   export    the exporter alone, several times per destination kind: one export job of an approved
 *             study is enqueued and worked at once by an export worker built as the gateway builds
 *             it (the gateway's own worker is stopped first, so its poll interval does not count):
 *             vault opened, SEG re-identified in memory, sent, audited. Timed from enqueue to done,
 *             with the exporter's own stage times from the job's result.
 *   reference the same SEG file (as Orthanc received it from Limen) sent to the same Orthanc by
 *             DCMTK storescu (C-STORE) and by curl (STOW-RS, the same multipart body shape, without
 *             `Expect: 100-continue`, which would cost curl a second's wait on Orthanc), the instance
 *             deleted from Orthanc before each send; process start included.
 * The destination kinds and the references take turns in a rotating order; medians.
 *
 * Orthanc binds every interface: as root the benchmark re-runs itself in a loopback-only network
 * namespace (unshare -n).
 *
 *   npm run bench -- export [--runs 5] [--approvals 2] [--slices 300] [--work bench/out/export]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigOrThrow, type LimenConfig } from '../../config/index.js';
import { dicom } from '../../anonymizer/index.js';
import { createDestinations } from '../../gateway/export/destinations.js';
import { createExportWorker } from '../../gateway/export/exporter.js';
import { createLogger } from '../../gateway/log/index.js';
import { startGateway, type RunningGateway } from '../../gateway/process/gateway.js';
import { egressUIDs } from '../../gateway/process/identifiers.js';
import { EXPORT_JOB } from '../../gateway/review/gate.js';
import { OrthancPeer, pacsDestinationsYaml } from '../../test/support/orthanc.js';
import { freePort } from '../../test/support/ports.js';
import { BENCH_OUT, generateCtSeries } from '../ct-series.js';
import { machine, median, versionOf } from '../measure.js';
import { loopbackOnly, namespaceProblem, rerunInLoopbackNamespace } from '../netns.js';

const KINDS = ['dimse', 'stow'] as const;
type Kind = (typeof KINDS)[number];
const ROUTE: Record<Kind, string> = { dimse: 'via-dimse', stow: 'via-stow' };
const CALLING_AE: Record<Kind, string> = { dimse: 'PACSDIMSE', stow: 'PACSSTOW' };
const POLL_MS = 20;

interface Approval {
  kind: Kind;
  /** POST of the decision until its response. */
  decisionMs: number;
  /** POST of the decision until Orthanc's REST API finds the SEG. */
  storedMs: number;
  /** The export job's own time (its stages), the rest being the wait for the worker to poll. */
  exportJobMs: number;
}

interface ExportRun {
  who: 'limen' | 'storescu' | 'curl';
  kind: Kind;
  ms: number;
  /** The exporter's own stage times (Limen only). */
  stages?: Record<string, number>;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '5' },
      approvals: { type: 'string', default: '2' },
      slices: { type: 'string', default: '300' },
      work: { type: 'string', default: join(BENCH_OUT, 'export') },
    },
  });
  if (!loopbackOnly()) {
    const problem = namespaceProblem();
    if (problem) {
      process.stderr.write(`export: Orthanc binds every interface and runs in a loopback-only namespace, which ${problem}\n`);
      return 2;
    }
    return rerunInLoopbackNamespace(fileURLToPath(import.meta.url), argv);
  }
  const runs = Number(values.runs);
  const approvals = Number(values.approvals);
  const work = resolve(values.work!);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const ct = generateCtSeries({ slices: Number(values.slices) });
  const loadBefore = machine().loadAverage;
  const logs: string[] = [];

  let orthanc: OrthancPeer | undefined;
  let gateway: RunningGateway | undefined;
  const stopAll = async (): Promise<void> => {
    await gateway?.stop().catch(() => {});
    await orthanc?.stop().catch(() => {});
  };
  const onSignal = (): void => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const limenDimse = await freePort();
    orthanc = await OrthancPeer.start({ dir: join(work, 'orthanc'), modalities: { limen: ['LIMEN', '127.0.0.1', limenDimse] }, dicomweb: true });
    const peer = orthanc;
    const config = gatewayConfig(work, peer, limenDimse, await freePort());
    gateway = await startGateway(config, createLogger({ level: 'info', write: (line) => logs.push(line) }));
    const gw = gateway;
    const base = `http://127.0.0.1:${gw.http.port}`;
    const reviewer = (await gw.storage.createToken({ role: 'reviewer', user: 'bench-reviewer', ttlSeconds: 86400 })).token;
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${reviewer}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: (await r.json()) as any };
    };

    // The PACS holds the series and a copy per study to be reviewed, and pushes each to Limen.
    process.stdout.write(`uploading the ${ct.files.length}-slice series to Orthanc\n`);
    const [source] = await peer.upload(ct.files);
    const studies: Array<{ kind: Kind; original: string }> = [];
    const pushStart = performance.now();
    for (let k = 0; k < approvals; k++) {
      for (const kind of KINDS) {
        const copy = (await peer.rest('POST', `/studies/${source}/modify`, Buffer.from(JSON.stringify({ Replace: { StudyDescription: `export bench ${kind} ${k + 1}` }, Force: true })))) as { ID: string };
        const original = ((await peer.rest('GET', `/studies/${copy.ID}`)) as { MainDicomTags: { StudyInstanceUID: string } }).MainDicomTags.StudyInstanceUID;
        const pushed = await peer.rest('POST', '/modalities/limen/store', Buffer.from(JSON.stringify({ Resources: [copy.ID], Synchronous: true, LocalAet: CALLING_AE[kind] })));
        if ((pushed as { FailedInstancesCount: number }).FailedInstancesCount !== 0) throw new Error(`Orthanc could not push the copy: ${JSON.stringify(pushed)}`);
        studies.push({ kind, original });
        process.stdout.write(`pushed study ${studies.length}/${approvals * KINDS.length} to Limen (${kind})\n`);
      }
    }

    // The pipeline runs, one study at a time.
    const reviews = await until(async () => {
      const r = await api('GET', '/api/v1/reviews?status=pending');
      return r.body.reviews?.length === studies.length ? (r.body.reviews as any[]) : undefined;
    }, 60_000 * studies.length, `${studies.length} studies awaiting review`, 1000, logs);
    const processedSeconds = (performance.now() - pushStart) / 1000;
    const reports = await Promise.all(reviews.map(async (r) => JSON.parse((await gw.storage.results.get(r.studyInstanceUID, 'report.json'))!.bytes.toString())));
    const seg = reports[0].seg as { frames: number; bytes?: number };
    const segBlob = await gw.storage.getInstanceBlob(reviews[0].seg.sopInstanceUID);
    process.stdout.write(`processed in ${processedSeconds.toFixed(1)} s; SEG of ${seg.frames} frames, ${segBlob!.bytes.length} bytes\n`);

    // Which review is which study, and so which route: the vault says (seen here only by the benchmark).
    const byOriginal = new Map(studies.map((s) => [s.original, s]));
    const pending: Array<{ kind: Kind; original: string; review: any }> = [];
    for (const r of reviews) {
      const records = await gw.storage.vault.open(r.studyInstanceUID);
      const uids = new Map((records[0].record as { uids: [string, string][] }).uids.map(([o, n]) => [n, o]));
      const s = byOriginal.get(uids.get(r.studyInstanceUID)!);
      if (!s) throw new Error('a review of an unknown study');
      pending.push({ ...s, review: r });
    }

    // Approve each, and wait for Orthanc to hold the SEG in the original study.
    const segsIn = async (original: string): Promise<string[]> =>
      (await peer.rest('POST', '/tools/find', Buffer.from(JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: original, Modality: 'SEG' } })))) as string[];
    const approved: Approval[] = [];
    for (const [i, p] of pending.entries()) {
      // A reviewer clicks at any moment of the export worker's poll cycle, not just after it found
      // the queue empty: the approvals are spread over the cycle (golden-ratio steps from the last delivery).
      await new Promise((r) => setTimeout(r, ((i * 0.6180339887) % 1) * config.worker.pollIntervalMs));
      const t0 = performance.now();
      const decision = await api('POST', `/api/v1/reviews/${p.review.studyInstanceUID}/decision`, { decision: 'approve', comment: 'benchmark', segSOPInstanceUID: p.review.seg.sopInstanceUID, glbSha256: p.review.glb.sha256 });
      const decisionMs = performance.now() - t0;
      if (decision.status !== 200) throw new Error(`the decision answered ${decision.status}: ${JSON.stringify(decision.body)}`);
      await until(async () => ((await segsIn(p.original)).length > 0 ? true : undefined), 120_000, 'the SEG in Orthanc', POLL_MS, logs);
      const storedMs = performance.now() - t0;
      await until(async () => ((await gw.storage.getStudy(p.review.studyInstanceUID))?.status === 'delivered' ? true : undefined), 60_000, 'the study delivered', 50, logs);
      const [job] = await gw.storage.jobs.list({ type: EXPORT_JOB, studyInstanceUID: p.review.studyInstanceUID });
      const stages = (job.result as { ms: Record<string, number> }).ms;
      approved.push({ kind: p.kind, decisionMs, storedMs, exportJobMs: Object.values(stages).reduce((a, b) => a + b, 0) });
      process.stdout.write(`approved (${p.kind}): SEG in Orthanc ${(approved.at(-1)!.storedMs / 1000).toFixed(2)} s after the decision call\n`);
    }

    // The exporter alone: the gateway's worker stopped, one built the same way worked at once.
    await gw.services.find((s) => s.name === `${EXPORT_JOB}-worker`)!.stop();
    const exporter = createExportWorker({
      storage: gw.storage,
      destinations: createDestinations(config.destinations, config.dimse.aeTitle, config.export.timeoutSeconds),
      egressUID: egressUIDs(randomBytes(32)),
      config,
      logger: createLogger({ level: 'info', write: (line) => logs.push(line) }),
    });
    const studyOf = (kind: Kind) => pending.find((p) => p.kind === kind)!;
    // The reference file: the SEG as Orthanc received it from Limen (re-identified, synthetic identity).
    const delivered = (await segsIn(studyOf('dimse').original))[0];
    const segFile = join(work, 'seg.dcm');
    const segBytes = await peer.file(delivered);
    writeFileSync(segFile, segBytes);
    const segSop = dicom.stringOf(dicom.find(dicom.readPart10(segBytes).dataset, dicom.T.SOPInstanceUID))!;
    const stowBody = join(work, 'stow.body');
    const boundary = 'limen-bench-boundary-5f1c';
    writeFileSync(stowBody, Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), segBytes, Buffer.from(`\r\n--${boundary}--\r\n`)]));
    const deleteReference = async (): Promise<void> => {
      const ids = (await peer.rest('POST', '/tools/lookup', Buffer.from(segSop))) as Array<{ ID: string; Type: string }>;
      for (const id of ids.filter((i) => i.Type === 'Instance')) await peer.rest('DELETE', `/instances/${id.ID}`);
    };

    const contenders: Array<() => Promise<ExportRun>> = [];
    for (const kind of KINDS) {
      contenders.push(async () => {
        const p = studyOf(kind);
        // A resent SEG keeps its UIDs (Orthanc would ignore it): the one delivered before goes first.
        for (const id of await segsIn(p.original)) await peer.rest('DELETE', `/instances/${id}`);
        const t0 = performance.now();
        const { id } = await gw.storage.jobs.enqueue(EXPORT_JOB, p.review.studyInstanceUID, { destination: config.routes[ROUTE[kind]].destinations[0] }, { maxAttempts: 1 });
        if ((await exporter.drain()) !== 1) throw new Error('the export worker found no job');
        const ms = performance.now() - t0;
        const job = (await gw.storage.jobs.list({ type: EXPORT_JOB, studyInstanceUID: p.review.studyInstanceUID })).find((j) => j.id === id)!;
        if (job.status !== 'done') throw new Error(`the export job ended ${job.status}: ${job.lastError}`);
        if ((await segsIn(p.original)).length !== 1) throw new Error('Orthanc does not hold the exported SEG');
        return { who: 'limen', kind, ms, stages: (job.result as { ms?: Record<string, number> }).ms };
      });
    }
    contenders.push(async () => {
      await deleteReference();
      const ms = await timedCommand('storescu', ['-R', '-aet', 'BENCHSCU', '-aec', 'ORTHANC', '127.0.0.1', String(peer.dicomPort), segFile]);
      return { who: 'storescu', kind: 'dimse', ms };
    });
    contenders.push(async () => {
      await deleteReference();
      const ms = await timedCommand('curl', ['-sS', '-f', '-o', '/dev/null', '-X', 'POST', '-H', 'Expect:', '-H', `Content-Type: multipart/related; type="application/dicom"; boundary=${boundary}`, '-H', 'Accept: application/dicom+json', '--data-binary', `@${stowBody}`, `${peer.base}/dicom-web/studies`]);
      return { who: 'curl', kind: 'stow', ms };
    });
    for (const c of contenders) await c(); // warm-up
    const samples: ExportRun[] = [];
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < contenders.length; k++) samples.push(await contenders[(r + k) % contenders.length]());
      process.stdout.write(`export run ${r + 1}/${runs} done\n`);
    }

    const summary = (who: ExportRun['who'], kind: Kind) => {
      const ss = samples.filter((s) => s.who === who && s.kind === kind);
      const stages = ss[0]?.stages ? Object.fromEntries(Object.keys(ss[0].stages).map((st) => [st, round(median(ss.map((s) => s.stages![st])))])) : undefined;
      return { who, kind, medianMs: round(median(ss.map((s) => s.ms))), runs: ss.map((s) => round(s.ms)), ...(stages ? { stagesMs: stages } : {}) };
    };
    const exports = KINDS.flatMap((kind) => [summary('limen', kind), summary(kind === 'dimse' ? 'storescu' : 'curl', kind)]);
    const approve = KINDS.map((kind) => {
      const as = approved.filter((a) => a.kind === kind);
      return {
        kind,
        medianStoredMs: round(median(as.map((a) => a.storedMs))),
        storedRuns: as.map((a) => round(a.storedMs)),
        decisionCallMs: as.map((a) => round(a.decisionMs)),
        exportJobMs: as.map((a) => round(a.exportJobMs)),
        /** Until the gateway's export worker polled (every workerPollIntervalMs), plus Orthanc indexing and this poll. */
        waitingMs: as.map((a) => round(a.storedMs - a.decisionMs - a.exportJobMs)),
      };
    });
    const limenWorst = Math.max(...exports.filter((e) => e.who === 'limen').map((e) => e.medianMs));
    const result = {
      benchmark: 'export',
      date: new Date().toISOString(),
      command: `npm run bench -- export ${argv.join(' ')}`.trim(),
      machine: { ...machine(), loadAverageBefore: loadBefore },
      versions: { orthanc: ((await peer.rest('GET', '/system')) as { Version: string }).Version, orthancDicomweb: versionOf('dpkg-query', ['-W', '-f', '${Version}', 'orthanc-dicomweb']), storescu: versionOf('storescu', ['--version']), curl: versionOf('curl', ['--version']) },
      series: { slices: ct.files.length, rows: 512, columns: 512 },
      seg: { frames: seg.frames, storedBytes: segBlob!.bytes.length, deliveredBytes: segBytes.length, segments: reports[0].segments.map((s: { label: string }) => s.label) },
      pipelineSecondsForAllStudies: round(processedSeconds),
      workerPollIntervalMs: config.worker.pollIntervalMs,
      approve,
      exports,
      limenOverReference: Object.fromEntries(KINDS.map((kind) => [kind, Math.round((exports.find((e) => e.who === 'limen' && e.kind === kind)!.medianMs / exports.find((e) => e.who !== 'limen' && e.kind === kind)!.medianMs) * 100) / 100])),
      target: 'export <= 5 s',
      met: limenWorst <= 5000,
    };
    writeFileSync(join(BENCH_OUT, 'export.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return result.met ? 0 : 1;
  } catch (err) {
    process.stderr.write(`last gateway log lines:\n${logs.slice(-20).join('')}\n`);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
    rmSync(work, { recursive: true, force: true });
  }
}

function gatewayConfig(work: string, orthanc: OrthancPeer, dimsePort: number, httpPort: number): LimenConfig {
  const file = join(work, 'limen.yaml');
  writeFileSync(
    file,
    `
remoteAEs:
  - aeTitle: ${CALLING_AE.dimse}
    route: ${ROUTE.dimse}
  - aeTitle: ${CALLING_AE.stow}
    route: ${ROUTE.stow}
${pacsDestinationsYaml(orthanc)}
routes:
  default:
    stableSeconds: 1
  ${ROUTE.dimse}:
    stableSeconds: 1
    destinations: [pacs-dimse]
  ${ROUTE.stow}:
    stableSeconds: 1
    destinations: [pacs-stow]
export:
  retryDelaysSeconds: [1, 2]
`,
  );
  return loadConfigOrThrow({ file, env: { LIMEN_DATA_DIR: join(work, 'limen'), LIMEN_HTTP_PORT: String(httpPort), LIMEN_DIMSE_PORT: String(dimsePort) } });
}

/** Runs a command (TCP_NODELAY=1, as DCMTK tools need on loopback) and resolves with its wall time, ms. */
function timedCommand(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(performance.now() - t0) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

async function until<T>(fn: () => Promise<T | undefined>, ms: number, what: string, intervalMs: number, logs: string[]): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; gateway log:\n${logs.slice(-10).join('')}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const round = (x: number): number => Math.round(x * 10) / 10;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code), (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
