/**
 * The egress: works `export` jobs. For an approved review only, it opens the vault, builds the
 * re-identified SEG in memory, sends it to one destination, and records "exported". Nothing
 * re-identified is ever written; a failed send is retried on the configured schedule, and the
 * final failure stays visible on the job.
 */
import { randomUUID } from 'node:crypto';
import { isLinkageRecord } from '../../anonymizer/index.js';
import type { LimenConfig } from '../../config/index.js';
import type { Storage } from '../../storage/index.js';
import { JobWorker, PermanentJobError, type JobContext } from '../../pipeline/worker/job-worker.js';
import type { Logger } from '../log/index.js';
import type { ExportMetrics } from '../metrics/index.js';
import { EXPORT_JOB } from '../review/gate.js';
import type { Destination, SendReceipt } from './destinations.js';
import { reidentifySegmentation } from './reidentify.js';

export interface ExporterDeps {
  storage: Pick<Storage, 'reviews' | 'vault' | 'getInstanceBlob' | 'audit' | 'jobs'>;
  destinations: ReadonlyMap<string, Destination>;
  /** The outgoing UID for each of Limen's own UIDs in the SEG: the same every time (`egressUIDs`). */
  egressUID: (own: string) => string;
  config: Pick<LimenConfig, 'export'>;
  logger: Logger;
  metrics?: ExportMetrics;
}

export function createExportWorker(deps: ExporterDeps): JobWorker {
  return new JobWorker(deps.storage.jobs, (ctx) => exportOne(deps, ctx), {
    type: EXPORT_JOB,
    workerId: `exporter-${randomUUID()}`,
    leaseSeconds: Math.max(60, deps.config.export.timeoutSeconds * 2),
    retryDelaysSeconds: deps.config.export.retryDelaysSeconds,
    onError: (job, err, outcome) => {
      const destination = (job.payload as { destination?: string }).destination;
      deps.logger.warn({ id: 'export.failed', msg: `export attempt failed (${outcome})`, study: job.studyInstanceUID, destination, attempt: job.attempts, err });
      if (destination !== undefined) deps.metrics?.attempts.inc({ destination, outcome: outcome === 'dead' ? 'dead' : 'retry' });
    },
    onDone: (job, result) => {
      const { destination, warning } = result as { destination: string; warning?: string };
      deps.metrics?.attempts.inc({ destination, outcome: warning === undefined ? 'delivered' : 'warning' });
    },
  });
}

async function exportOne(deps: ExporterDeps, ctx: JobContext): Promise<unknown> {
  const { storage } = deps;
  const study = ctx.job.studyInstanceUID;
  const destinationName = (ctx.job.payload as { destination?: string }).destination ?? '';
  if (!study) throw new PermanentJobError('an export job needs a study');
  const destination = deps.destinations.get(destinationName);
  if (!destination) throw new PermanentJobError(`destination "${destinationName}" is not configured`);
  const review = await storage.reviews.get(study);
  // The gate, checked again at the moment of sending: only an approved result leaves.
  if (review?.status !== 'approved') throw new PermanentJobError(`the result is ${review?.status ?? 'not reviewed'}, not approved: nothing is sent`);

  // Stage times go into the job's result, where an admin sees where a slow export spent its time.
  const ms: Record<string, number> = {};
  let t = 0;
  const lap = (stage: string): void => {
    const now = performance.now();
    ms[stage] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  await ctx.progress('re-identify', 10);
  t = performance.now();
  const seg = await storage.getInstanceBlob(review.segSOPInstanceUID);
  if (!seg) throw new PermanentJobError('the approved SEG is no longer stored');
  const records = (await storage.vault.open(study)).map((r) => r.record).filter(isLinkageRecord);
  lap('open');
  const outgoing = reidentifySegmentation(seg.bytes, records, deps.egressUID, review.createdAt);
  lap('reidentify');

  // A job cut off by a stop has been handed back (perhaps claimed again): it sends nothing.
  if (ctx.signal.aborted) {
    outgoing.bytes.fill(0);
    throw new Error('cut off by a stop: the job was handed back, nothing was sent');
  }
  await ctx.progress('send', 50);
  // Recorded before the identified SEG leaves: a send cut short by a crash, which may have
  // reached the PACS, still shows in the trail (an `export.sending` without its `exported`).
  const attempt = { destination: destination.name, transport: destination.transport, segSOPInstanceUID: review.segSOPInstanceUID, attempt: ctx.job.attempts };
  await storage.audit.append({ type: 'export.sending', actor: 'exporter', studyInstanceUID: study, detail: attempt });
  // From here a failure is in the trail too, committed with it: an `export.sending` followed by
  // `export.failed` was not delivered (or not confirmed), one without either was cut short by a crash.
  ctx.recordOnFailure(({ outcome, error }) => ({ type: 'export.failed', actor: 'exporter', studyInstanceUID: study, detail: { ...attempt, outcome, error } }));
  t = performance.now();
  let receipt: SendReceipt;
  try {
    receipt = await destination.send({ bytes: outgoing.bytes, sopClassUID: '1.2.840.10008.5.1.4.1.1.66.4', sopInstanceUID: outgoing.sopInstanceUID });
  } finally {
    outgoing.bytes.fill(0); // the identified copy lives only while it is sent
  }
  lap('send');

  // A warning (the PACS coerced elements of the re-identified SEG) is kept where an admin and the
  // privacy officer see it.
  const warning = receipt.warning === undefined ? {} : { warning: receipt.warning };
  const audit = { type: 'exported', actor: 'exporter', studyInstanceUID: study, detail: { ...attempt, glbSha256: review.glbSha256, ...warning } };
  // The event commits with the job's completion; the last destination's completion also moves the study to delivered.
  ctx.recordOnCompletion(audit);
  ctx.settlesStudy({ from: 'approved', to: 'delivered' });
  if (receipt.warning) deps.logger.warn({ id: 'export.sent-with-warning', msg: `approved SEG delivered, with a warning: ${receipt.warning}`, study, destination: destination.name, ms });
  else deps.logger.info({ id: 'export.sent', msg: 'approved SEG delivered', study, destination: destination.name, ms });
  return { destination: destination.name, ms, ...warning };
}
