/**
 * The `process` job: a complete study becomes a SEG (stored beside its CT, as its own series),
 * a GLB, one STL per segment and a report, all encrypted with the study key; then a review task
 * is created and the study awaits review. Every step is audited; bad input fails the study with
 * a reason an admin can read, and nothing partial is offered for review.
 */
import type { LimenConfig } from '../../config/index.js';
import { PROCESS_JOB, type Storage } from '../../storage/index.js';
import { JobWorker, PermanentJobError, type JobContext } from '../worker/job-worker.js';
import { findModelDir } from './model-dirs.js';
import { PipelineError } from './errors.js';
import type { PipelineStage } from './run-pipeline.js';
import { runPipelineInWorker } from './run-in-worker.js';
import { BITS_ALLOCATED } from '../seg/index.js';

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const DEFAULT_MODEL = 'default';

export interface ProcessWorkerDeps {
  storage: Storage;
  config: Pick<LimenConfig, 'routes' | 'models'>;
  workerId: string;
  idleMs?: number;
  log?: (event: { id: string; msg: string; [k: string]: unknown }) => void;
  /** How each run ended (for metrics): done, to be tried again, or given up. */
  onOutcome?: (outcome: 'done' | 'retry' | 'dead') => void;
}

export function createProcessWorker(deps: ProcessWorkerDeps): JobWorker {
  return new JobWorker(deps.storage.jobs, (ctx) => processStudy(deps, ctx), {
    type: PROCESS_JOB,
    workerId: deps.workerId,
    leaseSeconds: 120,
    idleMs: deps.idleMs,
    onDone: () => deps.onOutcome?.('done'),
    onError: (job, err, outcome) => {
      deps.onOutcome?.(outcome === 'dead' ? 'dead' : 'retry');
      const message = err instanceof Error ? err.message : String(err);
      deps.log?.({ id: 'process.failed', msg: `processing failed (${outcome})`, outcome, study: job.studyInstanceUID, reason: message });
      if (outcome === 'dead' && job.studyInstanceUID) {
        const audit = { type: 'processing.failed', actor: PROCESS_JOB, studyInstanceUID: job.studyInstanceUID, detail: { reason: message, code: err instanceof PipelineError ? err.code : 'error', attempts: job.attempts } };
        // Only a study this job was working on: a study queued again meanwhile is the new job's.
        void deps.storage.setStudyStatus(job.studyInstanceUID, 'failed', { from: ['processing', 'complete'], audit }).catch((e: Error) => deps.log?.({ id: 'process.status-failed', msg: 'the failed study could not be recorded', study: job.studyInstanceUID, reason: e.message }));
      }
    },
  });
}

async function processStudy(deps: ProcessWorkerDeps, ctx: JobContext): Promise<unknown> {
  const { storage } = deps;
  const study = ctx.job.studyInstanceUID;
  if (!study) throw new PermanentJobError('a process job needs a study');
  const detail = await storage.getStudy(study);
  if (!detail) throw new PermanentJobError('the study is gone (erased or expired)');
  const route = deps.config.routes[detail.route];
  const modelId = (ctx.job.payload as { model?: string } | null)?.model ?? route?.model ?? DEFAULT_MODEL;

  await storage.setStudyStatus(study, 'processing', { audit: { type: 'processing.started', actor: PROCESS_JOB, studyInstanceUID: study, detail: { model: modelId, attempt: ctx.job.attempts } } });

  const all = await storage.listInstances(study);
  const infos = all.filter((i) => i.sopClassUID !== SEGMENTATION_STORAGE);
  // A re-run's earlier SEG (never delivered: an approved study is not processed again).
  const supersededSegSeries = [...new Set(all.filter((i) => i.sopClassUID === SEGMENTATION_STORAGE).map((i) => i.seriesInstanceUID))];
  const instances: { bytes: Uint8Array }[] = [];
  for (const info of infos) {
    const blob = await storage.getInstanceBlob(info.sopInstanceUID);
    if (blob) instances.push({ bytes: blob.bytes });
  }
  let last = 0;
  const onProgress = (stage: PipelineStage, percent: number) => {
    const now = Date.now();
    if (now - last < 1000 && percent < 100) return;
    last = now;
    void ctx.progress(stage, percent).catch(() => {});
  };
  let out;
  try {
    const dir = findModelDir(modelId, deps.config.models.dir);
    if (!dir) throw new PipelineError('model-unavailable', `no model "${modelId}" in ${deps.config.models.dir} or among the shipped models`);
    out = await runPipelineInWorker({ instances, modelDir: dir, seriesRule: route?.minSlices ? { minSlices: route.minSlices } : undefined, onProgress, signal: ctx.signal });
  } catch (err) {
    // The same input fails the same way again: no retries for the study's own problems.
    if (err instanceof PipelineError) throw new PermanentJobError(`${err.code}: ${err.message}`);
    throw err;
  }

  // A run cut off by a stop has been handed back: nothing of it is written.
  const stillHeld = () => {
    if (ctx.signal.aborted) throw new Error('cut off by a stop: the job was handed back, nothing of this run is stored');
  };
  stillHeld();
  await ctx.progress('store', 95);
  const seg = out.report.seg;
  await storage.storeInstance({
    studyInstanceUID: study,
    seriesInstanceUID: seg.seriesInstanceUID,
    sopInstanceUID: seg.sopInstanceUID,
    sopClassUID: SEGMENTATION_STORAGE,
    transferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    bytes: out.seg,
    route: detail.route,
    stableSeconds: detail.stableSeconds,
    retentionDays: detail.retentionDays,
    modality: 'SEG',
    seriesNumber: 9901,
    instanceNumber: 1,
    seriesAttributes: { SeriesDescription: `AI segmentation (${out.report.model.id} ${out.report.model.version})` },
    instanceAttributes: { NumberOfFrames: seg.frames, BitsAllocated: BITS_ALLOCATED[seg.segmentationType] },
  });
  // A run that does not put its result up for review leaves no SEG of its own behind: the study
  // would hold (and count) a segmentation nobody is asked to review.
  let published: Awaited<ReturnType<typeof storage.publishReview>>;
  let glb: Awaited<ReturnType<typeof storage.results.put>>;
  try {
    stillHeld();
    glb = await storage.results.put(study, 'model.glb', 'model/gltf-binary', out.glb);
    for (const stl of out.stls) await storage.results.put(study, stl.name, 'model/stl', stl.bytes);
    await storage.results.put(study, 'report.json', 'application/json', Buffer.from(JSON.stringify(out.report, null, 2)));
    stillHeld();
    await storage.results.removeExcept(study, ['model.glb', 'report.json', ...out.stls.map((s) => s.name)]);

    // One transaction with the superseded SEG's removal and the status change (storage/publish.ts).
    const review = {
      studyInstanceUID: study,
      summary: {
        model: out.report.model,
        segments: out.report.segments.map((s) => ({ number: s.number, label: s.label, volumeMl: round(s.volumeMl), meshVolumeMl: round(s.meshVolumeMl), color: s.color })),
        seg: { seriesInstanceUID: seg.seriesInstanceUID },
        stl: out.stls.map((s) => ({ name: s.name, label: s.label, url: `/api/v1/results/${study}/${s.name}` })),
      },
      segSOPInstanceUID: seg.sopInstanceUID,
      glbSha256: glb.sha256,
    };
    published = await storage.publishReview(review, {
      supersededSeries: supersededSegSeries,
      sources: { instanceCount: infos.length, resultSeries: seg.seriesInstanceUID },
      job: { id: ctx.job.id, workerId: deps.workerId },
      audit: {
        type: 'processing.completed',
        actor: PROCESS_JOB,
        studyInstanceUID: study,
        detail: { model: out.report.model, segSOPInstanceUID: seg.sopInstanceUID, glbSha256: glb.sha256, segments: out.report.segments.map((s) => ({ label: s.label, volumeMl: round(s.meshVolumeMl) })), timings: out.report.timings },
      },
    });
  } catch (err) {
    await storage.removeSeries(study, seg.seriesInstanceUID).catch((e: unknown) => deps.log?.({ id: 'process.seg-left', msg: 'the failed run\'s SEG could not be removed', study, err: e }));
    throw err;
  }
  if (published === 'stale') {
    deps.log?.({ id: 'process.superseded', msg: 'instances arrived while the study was processed: not put up for review; it completes again and is processed whole', study });
    return { superseded: true };
  }
  deps.log?.({ id: 'process.done', msg: 'study processed; awaiting review', study, ms: out.report.timings.total });
  return { seg: seg.sopInstanceUID, glbSha256: glb.sha256, timings: out.report.timings };
}

const round = (v: number) => Math.round(v * 10) / 10;
