/**
 * STOW-RS, the Studies Store Transaction (PS3.18 §10.5): `POST /dicomweb/studies` and
 * `POST /dicomweb/studies/{study}` with a `multipart/related; type="application/dicom"` body.
 *
 * Parts are read as they stream in and handed to the edge one at a time; the response lists
 * every instance by the sender's own UIDs (PS3.18 Annex I). Request-level errors (401, 403,
 * 400, 413, 415) are JSON `{ error: { code, message } }`, answered while nothing is stored; a
 * body that breaks after an instance was stored is answered 202 with what was (each instance
 * acknowledged durable by the edge) and where it broke.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { IngestOutcome, IngestSource, InstanceIngest } from '../ingest/types.js';
import type { ReceiveMemory } from '../ingest/receive-memory.js';
import type { Logger } from '../log/index.js';
import { countRefusedInstances, type MetricsRegistry, type RefusalReason } from '../metrics/index.js';
import { bearerAuth, type BearerAuthOptions } from '../http/auth.js';
import { HttpError } from '../http/errors.js';
import { remoteAddressOf } from '../http/remote-address.js';
import type { RouteDoc } from '../http/route-doc.js';
import { isDicomUID } from '../../config/index.js';
import type { AppEnv, Identity, TokenVerifier } from '../http/types.js';
import { DICOM_JSON, stringifyDicomJson } from './dicom-json.js';
import { DICOM_XML, toNativeDicomXml } from './dicom-xml.js';
import { parseMediaType } from './media-type.js';
import { StowLog } from './messages.js';
import { MultipartError, readMultipart, type MultipartPart } from './multipart.js';
import { readPart10Meta, readStudyInstanceUID } from './part10.js';
import type { StowAdmission } from './stow-admission.js';
import { chooseDicomModel, type ModelRendition } from './wado-negotiation.js';
import {
  FailureReason,
  failureReasonFor,
  storeResponse,
  storeStatus,
  type FailedReference,
  type StoredReference,
} from './store-response.js';

export interface StowRoutesDeps {
  ingest: InstanceIngest;
  tokens: TokenVerifier;
  logger: Logger;
  metrics: MetricsRegistry;
  routeForToken(identity: Identity): string;
  maxInstanceBytes: number;
  /** The received instances' memory, shared with the other receivers. */
  memory?: ReceiveMemory;
  /** STOW-RS requests read at once; more wait, and after a while get 503. */
  admission: StowAdmission;
  onAuthRejected?: BearerAuthOptions['onRejected'];
  /**
   * Called once a request is admitted, before any part is read: the trail's record of who sent
   * it (its instances' events name the request), as an association's event is for DIMSE.
   */
  onRequest?(request: StowRequestFacts): Promise<void>;
}

/** Who sent a STOW-RS request: the token (never its secret) and the address it came from. */
export interface StowRequestFacts {
  requestId: string;
  route: string;
  tokenId: string;
  role: Identity['role'];
  user?: string;
  remoteAddress?: string;
}

const STOW_ROLES = ['modality', 'admin'] as const;
const STOW_RESPONSES = {
  200: 'all instances stored',
  202: 'some instances stored, others failed (FailedSOPSequence)',
  400: 'broken multipart body (reason in the error), or no part; once an instance of the request is stored, a broken body is a 202 whose FailedSOPSequence says where',
  401: 'no valid token',
  403: 'role not modality or admin',
  406: 'Accept excludes both application/dicom+json and application/dicom+xml',
  409: 'no instance stored (FailedSOPSequence says why)',
  413: 'an instance is larger than the configured limit (202 likewise once an instance is stored)',
  415: 'not multipart/related; type="application/dicom", or a part is not application/dicom',
  503: 'too many STOW-RS requests being stored at once: nothing of this one was read; retry after Retry-After seconds',
} as const;

const STOW_MEDIA = { request: ['multipart/related; type="application/dicom"'], response: ['application/dicom+json', 'application/dicom+xml'] };

export const stowRouteDocs: readonly RouteDoc[] = [
  {
    method: 'POST',
    path: '/dicomweb/studies',
    summary:
      'STOW-RS: store DICOM instances (multipart/related; type="application/dicom"). ' +
      'Response: the Store Instances Response Module, DICOM JSON or XML.',
    roles: STOW_ROLES,
    media: STOW_MEDIA,
    responses: STOW_RESPONSES,
  },
  {
    method: 'POST',
    path: '/dicomweb/studies/:study',
    summary: 'STOW-RS into one study: an instance of another study fails with FailureReason A900.',
    roles: STOW_ROLES,
    media: STOW_MEDIA,
    responses: STOW_RESPONSES,
  },
];

/** Why a part was refused before reaching the edge (the `reason` label of the metric below), or the edge threw. */
const REJECT_REASONS = ['not-dicom-media-type', 'not-part10', 'too-large', 'no-memory', 'study-unreadable', 'study-mismatch', 'ingest-error'] as const satisfies readonly RefusalReason[];
type RejectReason = (typeof REJECT_REASONS)[number];

/** Routes relative to `/dicomweb`. */
export function stowRoutes(deps: StowRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const auth = bearerAuth({ tokens: deps.tokens, roles: STOW_ROLES, onRejected: deps.onAuthRejected });
  const rejected = deps.metrics.counter({
    name: 'limen_stow_parts_rejected_total',
    help: 'STOW-RS parts refused before reaching the edge, by reason.',
    labelNames: ['reason'],
  });
  // Zero series for every reason, so alerts and rate() have a series before the first refusal.
  for (const reason of REJECT_REASONS) rejected.inc({ reason }, 0);
  // The edge never saw these parts: without this, the instances received and failed miss them.
  const refusedInstance = countRefusedInstances(deps.metrics);
  const store = storeHandler(deps, (reason) => {
    rejected.inc({ reason });
    refusedInstance(reason);
  });
  app.post('/studies', auth, (c) => store(c, undefined));
  app.post('/studies/:study', auth, (c) => store(c, c.req.param('study')));
  return app;
}

function storeHandler(deps: StowRoutesDeps, countRejected: (reason: RejectReason) => void) {
  return async (c: Context<AppEnv>, study: string | undefined): Promise<Response> => {
    const requestId = c.get('requestId') ?? '-';
    if (study !== undefined && !isDicomUID(study)) {
      throw new HttpError(400, 'invalid-uid', 'the path does not hold a valid Study Instance UID');
    }
    const rendition = responseRendition(c.req.header('accept'));
    const boundary = checkContentType(c.req.header('content-type'));
    const coding = c.req.header('content-encoding')?.trim().toLowerCase();
    if (coding && coding !== 'identity') {
      // RFC 9110 §15.5.16: a 415 for a content coding says which codings would be accepted.
      throw new HttpError(415, 'unsupported-content-encoding', `Content-Encoding ${JSON.stringify(coding)} is not supported; send the multipart body as it is`, {
        headers: { 'accept-encoding': 'identity' },
      });
    }
    const body = c.req.raw.body;
    if (!body) throw new HttpError(400, 'invalid-multipart', 'the request has no body');
    const release = await deps.admission.admit();
    if (!release) {
      deps.logger.warn(StowLog.busy({ requestId, maxConcurrent: deps.admission.maxConcurrent }));
      throw new HttpError(503, 'busy', `${deps.admission.maxConcurrent} STOW-RS requests are being stored; nothing of this one was read, send it again later`, {
        // The body is left unread, so the connection cannot carry another request.
        headers: { 'retry-after': String(STOW_RETRY_AFTER_SECONDS), connection: 'close' },
      });
    }
    try {
      return await storeBody(deps, c, body, { study, boundary, rendition, requestId }, countRejected);
    } finally {
      release();
    }
  };
}

/** Reads the multipart body part by part, stores each, and answers with the Store Instances Response. */
async function storeBody(
  deps: StowRoutesDeps,
  c: Context<AppEnv>,
  body: ReadableStream<Uint8Array>,
  request: { study: string | undefined; boundary: string; rendition: ModelRendition; requestId: string },
  countRejected: (reason: RejectReason) => void,
): Promise<Response> {
  const { study, boundary, requestId } = request;
  const identity = c.get('identity');
  const target: StoreTarget = {
    study,
    route: deps.routeForToken(identity),
    source: { kind: 'stow', tokenUser: identity.user ?? undefined, tokenId: identity.id, remoteAddress: remoteAddressOf(c), requestId },
  };
  await deps.onRequest?.({
    requestId,
    route: target.route,
    tokenId: identity.id,
    role: identity.role,
    ...(identity.user !== undefined && { user: identity.user }),
    ...(target.source.remoteAddress !== undefined && { remoteAddress: target.source.remoteAddress }),
  });
  // Kept with the part's index: the response lists instances in the order they were sent.
  const stored: Array<StoredReference & { part: number }> = [];
  const failed: Array<FailedReference & { part: number }> = [];
  const record = (part: MultipartPart, result: Exclude<PartResult, { unsupported: string }>) => {
    if ('stored' in result) {
      stored.push({ ...result.stored, part: part.index });
      return;
    }
    if (result.rejected) countRejected(result.rejected);
    failed.push({ ...result.failed, part: part.index });
    // The completion line counts them all; beyond the first few, one line each would let a body of
    // empty parts write many times its size into the log.
    if (failed.length <= STOW_FAILED_PARTS_LOGGED) {
      deps.logger.warn(StowLog.instanceFailed({ requestId, part: part.index, code: result.code, failureReason: hex4(result.failed.failureReason) }));
    }
  };
  // Parts are stored a few at a time while the body is still being read: each store spends most
  // of its time waiting for the disk, and at most STOW_PARTS_IN_FLIGHT parts are held in memory.
  const inFlight = new Set<Promise<void>>();
  const settle = () => Promise.allSettled(inFlight);
  /** The body broke after some parts were stored: answered, and the connection closed (the rest is unread). */
  let cutShort = false;
  /** The part at which reading stopped because too many had failed. */
  let tooManyFailed: number | undefined;

  try {
    for await (const part of readMultipart(body, { boundary, maxPartBytes: deps.maxInstanceBytes, ...(deps.memory && { memory: deps.memory }) })) {
      if (failed.length >= STOW_MAX_FAILED_PARTS) {
        // Each failed part costs the sender a few bytes (an empty part is ten) and Limen an item in
        // the response: past this many, the request ends here, answered like a body that broke.
        part.release();
        tooManyFailed = part.index;
        break;
      }
      const unsupported = unsupportedPart(part);
      if (unsupported) {
        part.release();
        // Before anything is stored a non-DICOM part refuses the whole request; after, it fails alone.
        await settle();
        if (stored.length === 0) throw new HttpError(415, 'unsupported-media-type', unsupported.unsupported, { headers: { connection: 'close' } });
        record(part, { failed: { failureReason: FailureReason.cannotUnderstand, comment: 'part is not application/dicom' }, code: unsupported.code, rejected: unsupported.rejected });
        continue;
      }
      const done: Promise<void> = storePart(deps, part, target, requestId).then((result) => {
        part.release();
        inFlight.delete(done);
        record(part, result);
      });
      inFlight.add(done);
      // With no room for another part like this one, reading on would only see it refused while
      // this request's own stores hold the memory: one of them finishes first.
      const full = deps.memory !== undefined && !deps.memory.hasRoomFor(part.body.length);
      if (inFlight.size >= STOW_PARTS_IN_FLIGHT || full) await Promise.race(inFlight);
    }
    await settle();
    if (tooManyFailed !== undefined) {
      deps.logger.warn(StowLog.refused({ requestId, status: storeStatus(stored.length, failed.length), code: 'too-many-failed-parts', stored: stored.length, part: tooManyFailed }));
      failed.push({
        failureReason: FailureReason.outOfResources,
        comment: `over ${STOW_MAX_FAILED_PARTS} parts failed; the rest was not read`,
        part: Number.MAX_SAFE_INTEGER,
      });
      cutShort = true;
    }
  } catch (err) {
    // Whatever was handed to the edge finishes first: what is stored is reported, never lost.
    await settle();
    if (!(err instanceof MultipartError)) {
      if (err instanceof HttpError) deps.logger.warn(StowLog.refused({ requestId, status: err.status, code: err.code, stored: stored.length }));
      throw err;
    }
    // An instance above the limit ends the request; it is one more the sender sent and Limen did not store.
    if (err.status === 413) countRejected('too-large');
    // The status logged is the one answered: 202 once something was stored (below).
    deps.logger.warn(StowLog.refused({ requestId, status: stored.length === 0 ? err.status : 202, code: err.code, stored: stored.length, part: err.part }));
    if (stored.length === 0) {
      throw new HttpError(err.status, err.status === 413 ? 'instance-too-large' : 'invalid-multipart', err.message, {
        headers: { connection: 'close' },
        details: { reason: err.code, stored: 0, failed: failed.length },
      });
    }
    // 400 and 413 say that nothing was stored (PS3.18 Table 10.5.3-1). Some was: the answer is the
    // Store Instances Response, 202, with the part that broke the body among the failures; the
    // parts after it were never read, so the sender resends what it does not find referenced.
    // (A body that ends after a whole part, without its closing delimiter, broke no part.)
    const answered = [...stored, ...failed].some((r) => r.part === err.part);
    if (!answered) {
      failed.push({
        failureReason: err.status === 413 ? FailureReason.outOfResources : FailureReason.cannotUnderstand,
        comment: err.status === 413 ? 'instance above the size limit; the rest was not read' : 'body broken here; the rest was not read',
        part: err.part ?? Number.MAX_SAFE_INTEGER,
      });
    }
    cutShort = true;
  }

  if (stored.length === 0 && failed.length === 0) {
    throw new HttpError(400, 'invalid-multipart', 'the multipart body holds no part');
  }
  const status = storeStatus(stored.length, failed.length);
  deps.logger.info(
    StowLog.completed({ requestId, route: target.route, tokenUser: identity.user ?? undefined, tokenId: identity.id, remoteAddress: target.source.remoteAddress, stored: stored.length, failed: failed.length, status }),
  );
  const inOrder = <T extends { part: number }>(list: T[]) => list.sort((a, b) => a.part - b.part).map(({ part: _, ...reference }) => reference);
  const response = storeResponse(inOrder(stored), inOrder(failed));
  const headers: Record<string, string> = { 'content-type': request.rendition.model === 'json' ? request.rendition.contentType : DICOM_XML, ...(cutShort && { connection: 'close' }) };
  return new Response(request.rendition.model === 'json' ? stringifyDicomJson(response) : toNativeDicomXml(response), { status, headers });
}

interface StoreTarget {
  /** The study named in the URL, if any. */
  study: string | undefined;
  route: string;
  source: IngestSource;
}

type PartResult =
  | { stored: StoredReference }
  /** The part is not application/dicom: the caller decides between 415 and a failed item. */
  | { unsupported: string; code: string; rejected: RejectReason }
  | { failed: FailedReference; code: string; rejected?: RejectReason };

/** Parts of one request being stored at once. */
const STOW_PARTS_IN_FLIGHT = 4;
/**
 * Failed parts one request may have; the parts after are not read. Above a large study's worth of
 * instances all refused for one reason (a SOP class the route does not take), and far below what
 * a body of empty parts (ten bytes each) would otherwise make Limen hold: 1 M of them, a 9 MB
 * body, took 1.2 GB and three minutes to answer with a 120 MB response.
 */
export const STOW_MAX_FAILED_PARTS = 10_000;
/** Failed parts of one request logged one line each; the completion line counts them all. */
const STOW_FAILED_PARTS_LOGGED = 100;
/** What a 503 asks the sender to wait: about the time a 50-instance batch takes. */
const STOW_RETRY_AFTER_SECONDS = 10;

function unsupportedPart(part: MultipartPart): Extract<PartResult, { unsupported: string }> | undefined {
  const partType = part.headers.get('content-type');
  // A part without Content-Type takes the body's `type`, application/dicom (RFC 2387).
  if (partType === undefined || parseMediaType(partType)?.essence === 'application/dicom') return undefined;
  return {
    unsupported: `part ${part.index} is ${JSON.stringify(partType)}; STOW-RS here accepts application/dicom parts only`,
    code: 'not-dicom-media-type',
    rejected: 'not-dicom-media-type',
  };
}

/** Checks one application/dicom part and hands it to the edge; the outcome is the part's line in the response. */
async function storePart(deps: StowRoutesDeps, part: MultipartPart, target: StoreTarget, requestId: string): Promise<Exclude<PartResult, { unsupported: string }>> {
  const meta = readPart10Meta(part.body);
  if (part.dropped) {
    // Named by its file meta when the kept head holds it, so the sender knows which to send again.
    const sender = meta.ok ? { sopClassUID: meta.value.sopClassUID, sopInstanceUID: meta.value.sopInstanceUID } : {};
    const failed = { ...sender, failureReason: FailureReason.outOfResources, comment: 'too many instances in memory now; send it again later' };
    return { failed, code: 'no-memory', rejected: 'no-memory' };
  }
  if (!meta.ok) {
    return { failed: { failureReason: FailureReason.cannotUnderstand, comment: meta.message }, code: 'not-part10', rejected: 'not-part10' };
  }
  const sender = { sopClassUID: meta.value.sopClassUID, sopInstanceUID: meta.value.sopInstanceUID };

  if (target.study !== undefined) {
    const found = readStudyInstanceUID(part.body, meta.value);
    if (!found.ok) {
      const comment = `StudyInstanceUID unreadable: ${found.message}`;
      const failed = { ...sender, failureReason: FailureReason.cannotUnderstand, comment };
      return { failed, code: 'study-unreadable', rejected: 'study-unreadable' };
    }
    if (found.value !== target.study) {
      const comment = found.value === null ? 'instance has no StudyInstanceUID' : 'StudyInstanceUID differs from the study in the URL';
      const failed = { ...sender, failureReason: FailureReason.dataSetDoesNotMatch, comment };
      return { failed, code: 'study-mismatch', rejected: 'study-mismatch' };
    }
  }

  let outcome: IngestOutcome;
  try {
    // The file meta names the instance the way a C-STORE command does; the edge checks the data set against it (PS3.10 7.1).
    outcome = await deps.ingest.ingest({ format: 'part10', bytes: part.body, route: target.route, source: target.source, announcedSOPClassUID: sender.sopClassUID, announcedSOPInstanceUID: sender.sopInstanceUID });
  } catch (err) {
    // The edge reports failures as outcomes; a throw is a defect. This instance fails with
    // "processing failure" and the rest of the request goes on, as a DIMSE association would.
    deps.logger.error(StowLog.ingestThrew({ requestId, part: part.index, err }));
    const failed = { ...sender, failureReason: FailureReason.processingFailure, comment: 'internal error while storing' };
    return { failed, code: 'ingest-error', rejected: 'ingest-error' };
  }
  if (outcome.ok) return { stored: sender };
  return { failed: { ...sender, failureReason: failureReasonFor(outcome.code), comment: outcome.reason }, code: outcome.code };
}

/** The response is DICOM JSON or XML; a client that accepts neither gets 406 before anything is stored. */
function responseRendition(header: string | undefined): ModelRendition {
  const rendition = chooseDicomModel(header, 'single');
  if (!rendition) throw new HttpError(406, 'not-acceptable', `the response is ${DICOM_JSON} or ${DICOM_XML}; Accept is ${JSON.stringify(header)}`);
  return rendition;
}

/** Checks the request's media type and returns the multipart boundary. */
function checkContentType(header: string | undefined): string {
  const expected = 'expected multipart/related; type="application/dicom"';
  const media = parseMediaType(header);
  if (!media || media.essence !== 'multipart/related') {
    throw new HttpError(415, 'unsupported-media-type', `Content-Type is ${header ? JSON.stringify(header) : 'missing'}; ${expected}`);
  }
  const type = media.parameters.type;
  // `type` absent is read leniently as application/dicom; the parts' own types are checked.
  if (type !== undefined && parseMediaType(type)?.essence !== 'application/dicom') {
    throw new HttpError(415, 'unsupported-media-type', `multipart/related of type ${JSON.stringify(type)} is not supported; ${expected}`);
  }
  const boundary = media.parameters.boundary;
  if (!boundary) throw new HttpError(400, 'invalid-multipart', 'the multipart/related Content-Type has no boundary parameter');
  return boundary;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}
