/**
 * The edge: de-identify in memory, then make the result durable (vault, encrypted blob, database)
 * and only then say so. Everything after `deidentify` sees pseudonymous data only.
 */
import { deidentify, dicom, type Deidentified, type IdentifierGenerator } from '../../anonymizer/index.js';
import { isDicomUID } from '../../config/index.js';
import { isStorageError, tokenActor, type Storage } from '../../storage/index.js';
import type { Logger } from '../log/index.js';
import type { EdgeMetrics } from '../metrics/index.js';
import type { CompiledRoute } from './routes.js';
import type { IngestInstance, IngestOutcome, IngestSource, InstanceIngest } from './types.js';

const { T, find, stringOf } = dicom;

export interface EdgeIngestDeps {
  storage: Pick<Storage, 'storeInstance' | 'audit'>;
  routes: ReadonlyMap<string, CompiledRoute>;
  identifiers: IdentifierGenerator;
  metrics: EdgeMetrics;
  logger: Logger;
  now?: () => number;
}

export class EdgeIngest implements InstanceIngest {
  constructor(private readonly deps: EdgeIngestDeps) {}

  async ingest(instance: IngestInstance): Promise<IngestOutcome> {
    const { metrics } = this.deps;
    const started = performance.now();
    metrics.instancesReceived.inc();
    metrics.receivedBytes.inc({}, instance.bytes.length);
    const outcome = await this.process(instance);
    if (outcome.ok) metrics.storeLatency.observe((performance.now() - started) / 1000);
    else {
      metrics.instancesFailed.inc({ reason: outcome.code });
      // The reason in words too (what the sender was told; tags, never values): a burned-in
      // refusal and a damaged file are not the same to the privacy officer.
      await this.audit({ type: 'instance.failed', actor: actorOf(instance), detail: { route: instance.route, ...arrival(instance), reason: outcome.code, why: outcome.reason } });
    }
    return outcome;
  }

  private async process(instance: IngestInstance): Promise<IngestOutcome> {
    const route = this.deps.routes.get(instance.route);
    if (!route) return { ok: false, code: 'cannot-understand', reason: `no route "${instance.route}" is configured` };
    const result = deidentify({ bytes: instance.bytes, format: instance.format, transferSyntaxUID: instance.transferSyntaxUID }, route.profile, this.deps.identifiers);
    const announced = { sopClassUID: instance.announcedSOPClassUID, sopInstanceUID: instance.announcedSOPInstanceUID };
    if (!result.ok) {
      // The reason is PHI-free (it is what the sender is answered) and whole here: an ErrorComment shortens it to 64 characters.
      this.deps.logger.info({ id: 'edge.instance.rejected', msg: 'instance not de-identified', code: result.error.code, reason: result.error.message, route: route.name });
      const code = result.error.code === 'unsupported-transfer-syntax' ? 'transfer-syntax-not-supported' : 'cannot-understand';
      return { ok: false, code, reason: result.error.message, ...announced };
    }
    if (instance.announcedSOPClassUID && instance.announcedSOPClassUID !== result.sopClassUID) {
      // Short enough for an ErrorComment (64 characters): the sender knows what it announced.
      return { ok: false, code: 'sop-class-mismatch', reason: `the data set's SOP Class is ${result.sopClassUID}`, ...announced };
    }
    if (instance.announcedSOPInstanceUID && instance.announcedSOPInstanceUID !== originalUID(result, result.sopInstanceUID)) {
      // Answered for the command's UID, stored under the data set's: the sender would believe the wrong instance stored.
      return { ok: false, code: 'sop-class-mismatch', reason: "the data set's SOP Instance UID is not the one the request announced", ...announced };
    }
    const missing = missingIdentifier(result);
    if (missing) return { ok: false, code: 'sop-class-mismatch', reason: `the data set has no valid ${missing}`, ...announced };
    if (!route.config.acceptSopClasses.includes(result.sopClassUID)) {
      return { ok: false, code: 'sop-class-not-supported', reason: `route "${route.name}" does not accept SOP Class ${result.sopClassUID}`, sopClassUID: result.sopClassUID, sopInstanceUID: instance.announcedSOPInstanceUID };
    }
    let stored;
    try {
      stored = await this.deps.storage.storeInstance({
        studyInstanceUID: result.studyInstanceUID,
        seriesInstanceUID: result.seriesInstanceUID,
        sopInstanceUID: result.sopInstanceUID,
        sopClassUID: result.sopClassUID,
        transferSyntaxUID: result.transferSyntaxUID,
        bytes: result.bytes,
        linkage: result.linkage,
        route: route.name,
        stableSeconds: route.config.stableSeconds,
        retentionDays: route.config.retentionDays,
        ...indexAttributes(result),
        // Committed with the instance's rows: one flush for both, and no stored instance without its event.
        audit: (outcome) => ({
          type: 'instance.stored',
          actor: actorOf(instance),
          studyInstanceUID: result.studyInstanceUID,
          detail: {
            sopInstanceUID: result.sopInstanceUID,
            route: route.name,
            ...arrival(instance),
            duplicate: outcome.duplicate,
            ...(outcome.reopenedFrom && { reopenedFrom: outcome.reopenedFrom }),
            ...(missesResult(outcome) && { afterResult: outcome.studyStatus }),
          },
        }),
      });
    } catch (err) {
      if (isStorageError(err, 'uid-conflict')) {
        // Permanent: sending it again cannot succeed, so it is not answered as "retry later".
        this.deps.logger.warn({ id: 'edge.instance.uid-conflict', msg: 'instance refused: its UIDs are already stored under another study or series', study: result.studyInstanceUID });
        return { ok: false, code: 'cannot-understand', reason: 'its UIDs are already stored under another study or series', ...announced };
      }
      this.deps.logger.error({ id: 'edge.instance.store-failed', msg: 'instance could not be made durable', err, study: result.studyInstanceUID });
      return { ok: false, code: 'out-of-resources', reason: 'the instance could not be stored; retry later', ...announced };
    }
    if (missesResult(stored)) {
      this.deps.logger.warn({
        id: 'edge.instance.after-result',
        msg: `instance stored in a study whose result is ${stored.studyStatus}: that result does not include it`,
        study: result.studyInstanceUID,
        status: stored.studyStatus,
      });
    }
    return { ok: true, sopClassUID: result.sopClassUID, sopInstanceUID: result.sopInstanceUID, studyInstanceUID: result.studyInstanceUID, duplicate: stored.duplicate };
  }

  // A failure's audit event is written on its own; failing to write it is logged, not fatal to the sender.
  private async audit(event: Parameters<Storage['audit']['append']>[0]): Promise<void> {
    try {
      await this.deps.storage.audit.append(event);
    } catch (err) {
      this.deps.logger.error({ id: 'edge.audit.failed', msg: 'audit event not recorded', type: event.type, err });
    }
  }
}

/**
 * A new instance of a study whose result is approved or delivered: it does not reopen the study
 * (what was reviewed or sent stays what it was), so the result lacks it. Said in the trail and
 * the log, where a late slice would otherwise go unnoticed beside a delivered SEG. (One that
 * arrives while the study is processed has that run's result set aside, and is processed.)
 */
function missesResult(outcome: { duplicate: boolean; studyStatus: string }): boolean {
  return !outcome.duplicate && (outcome.studyStatus === 'approved' || outcome.studyStatus === 'delivered');
}

/**
 * The UIDs every composite instance carries (Type 1 in the General Study and Series modules) and
 * storage files it under. Missing, the data set does not match its SOP Class (A900): permanent,
 * so not answered as "retry later".
 */
function missingIdentifier(r: Deidentified): string | undefined {
  if (!isDicomUID(r.studyInstanceUID)) return 'Study Instance UID (0020,000D)';
  if (!isDicomUID(r.seriesInstanceUID)) return 'Series Instance UID (0020,000E)';
  return undefined;
}

/** The UID a de-identified one replaced (itself when the profile kept it). */
function originalUID(r: Deidentified, uid: string): string {
  return r.linkage.uids.find(([, replacement]) => replacement === uid)?.[0] ?? uid;
}

/**
 * How it arrived, and what ties it to its sender in the trail: the DIMSE association or the HTTP
 * request, whose own events name the caller (AE title or token, address, certificate).
 */
function arrival({ source }: IngestInstance): { source: IngestSource['kind']; associationId?: string; requestId?: string } {
  return {
    source: source.kind,
    ...(source.associationId !== undefined && { associationId: source.associationId }),
    ...(source.requestId !== undefined && { requestId: source.requestId }),
  };
}

/** The calling AE title, the token's user, or else the token: a machine's name, never a person's data. */
function actorOf({ source }: IngestInstance): string | undefined {
  if (source.callingAETitle !== undefined) return source.callingAETitle;
  return source.tokenId !== undefined ? tokenActor({ id: source.tokenId, user: source.tokenUser }) : source.tokenUser;
}

/**
 * De-identified attributes kept in the database for queries (QIDO-RS) without opening blobs.
 * Text is decoded in the instance's character set (ISO 2022 escapes, UTF-8, the ISO 8859 sets...),
 * so the index holds what the values say and searches match them as a person types them.
 */
function indexAttributes(r: Deidentified): { modality?: string; seriesNumber?: number; instanceNumber?: number; attributes: Record<string, unknown>; seriesAttributes: Record<string, unknown>; instanceAttributes: Record<string, unknown> } {
  const ds = r.dataset;
  const decoding = dicom.decodingOf(ds);
  const s = (tag: number) => stringOf(find(ds, tag)) || undefined;
  const text = (tag: number, pn = false) => {
    const value = find(ds, tag)?.value;
    return (value && decoding.decode(value, pn).replace(/[\0 ]+$/, '')) || undefined;
  };
  const n = (tag: number) => {
    const v = s(tag);
    return v !== undefined && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : undefined;
  };
  return {
    modality: s(T.Modality),
    seriesNumber: n(T.SeriesNumber),
    instanceNumber: n(T.InstanceNumber),
    attributes: {
      StudyDate: s(T.StudyDate),
      StudyTime: s(T.StudyTime),
      AccessionNumber: text(T.AccessionNumber),
      StudyID: text(T.StudyID),
      StudyDescription: text(T.StudyDescription),
      PatientID: text(T.PatientID),
      PatientName: text(T.PatientName, true),
      // What the profile left of them: empty under the Basic Profile, kept with Retain Patient Characteristics (sex) or Longitudinal Full Dates.
      PatientBirthDate: s(0x00100030),
      PatientSex: s(0x00100040),
      ReferringPhysicianName: text(T.ReferringPhysicianName, true),
    },
    seriesAttributes: { SeriesDescription: text(T.SeriesDescription), BodyPartExamined: s(0x00180015) },
    instanceAttributes: { Rows: dicom.uint16Of(find(ds, 0x00280010)), Columns: dicom.uint16Of(find(ds, 0x00280011)), NumberOfFrames: n(0x00280008), BitsAllocated: dicom.uint16Of(find(ds, 0x00280100)) },
  };
}
