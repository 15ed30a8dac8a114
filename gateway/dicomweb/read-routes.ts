/**
 * The DICOMweb read side under `/dicomweb`: QIDO-RS searches and WADO-RS retrieval (PS3.18 §10.4,
 * §10.6) of the de-identified studies Limen holds, the SEG it made among them. Mounted next to
 * STOW-RS (`stow.ts`) on the same prefix; these routes are GET only.
 *
 * Who may read: reviewers (the viewer) and admins. Auditors may not: they read the audit trail,
 * not images, and pseudonymized images are still personal data. The check is one middleware,
 * `deps.auth`, so a session cookie (or OIDC) can take the bearer token's place in one line.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { Codecs } from '../../pipeline/volume/index.js';
import { bearerAuth, type BearerAuthOptions } from '../http/auth.js';
import { HttpError } from '../http/errors.js';
import type { RouteDoc } from '../http/route-doc.js';
import { isDicomUID } from '../../config/index.js';
import type { AppEnv, Identity, Role, TokenVerifier } from '../http/types.js';
import type { Logger } from '../log/index.js';
import { acceptParameterFault, acceptedRanges, acceptValues, dicomwebQuery, unsupportedCharset } from './accept.js';
import { QidoQueryError, parseQidoQuery } from './qido-query.js';
import type { QidoLevel } from './qido-attributes.js';
import { search, type SearchContext, type SearchScope } from './qido-search.js';
import type { DicomwebReadSource } from './read-source.js';
import { StudyIndex } from './study-index.js';
import { InstanceCache, type InstanceCacheOptions } from './instance-cache.js';
import type { FrameDecoders } from './transcode.js';
import { chooseDicomModel, type ModelRendition } from './wado-negotiation.js';
import { stringifyDicomJson, type JsonDataset } from './dicom-json.js';
import { DICOM_XML, toNativeDicomXml } from './dicom-xml.js';
import { bytesResponse, multipartChunks, multipartContentType, newBoundary } from './multipart-writer.js';
import { parseBulkPath } from './bulk-path.js';
import { parse, readBlob, retrieveBulk, retrieveFrames, retrieveInstances, retrieveMetadata, type Target, type WadoContext } from './wado.js';

/** Roles that may search and retrieve. */
export const DICOMWEB_READ_ROLES: readonly Role[] = ['reviewer', 'admin'];

export interface DicomwebReadDeps {
  source: DicomwebReadSource;
  tokens: TokenVerifier;
  logger: Logger;
  onAuthRejected?: BearerAuthOptions['onRejected'];
  /** The one authentication check of every read route; by default a bearer token of a read role. */
  auth?: MiddlewareHandler<AppEnv>;
  /** Decoders for Explicit VR Little Endian requests of compressed data; by default the pipeline's. */
  codecs?: FrameDecoders;
  /** Where the routes are mounted; RetrieveURL and BulkDataURI start with it. Default `/dicomweb`. */
  mountPath?: string;
  /** The origin clients reach Limen at (behind a proxy); by default the request's own. */
  publicOrigin?: string;
  /** The cache of decrypted instances (metadata, frames, bulk data), or its bounds; see `instance-cache.ts`. */
  instanceCache?: InstanceCache | InstanceCacheOptions;
  /**
   * Told of the studies a series or instance search outside a study's path answered with: such a
   * search reads what `/studies/{study}/metadata` does (a study's path is recorded by its route).
   */
  onStudiesRead?: (identity: Identity, studyInstanceUIDs: readonly string[]) => Promise<void>;
}

const ROLES = DICOMWEB_READ_ROLES;

const qidoDoc = (path: string, summary: string): RouteDoc => ({
  method: 'GET',
  path,
  summary:
    `QIDO-RS: ${summary}. Matching on StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID (UID lists), PatientID, ` +
    'PatientName, AccessionNumber, StudyID, StudyDescription, SeriesDescription (wildcards * ?), StudyDate and StudyTime ' +
    '(ranges a-b, -b, a-, of real dates and times), ModalitiesInStudy, Modality, SeriesNumber, InstanceNumber; limit, offset, includefield ' +
    '(keywords, tags or all; a study or series search returns no attribute of a lower level); fuzzymatching is ignored with a Warning; accept and charset as query parameters too. Response application/dicom+json or, when asked, multipart/related; type="application/dicom+xml"; 204 when nothing matches.',
  roles: ROLES,
  media: { response: MODEL_MEDIA },
  responses: { 200: 'the matches as DICOM JSON, or as multipart/related; type="application/dicom+xml" when asked; Warning 299 for ignored keys and for the number of matches past this page', 204: 'nothing matches (or nothing past offset)', 400: 'a malformed key value or parameter, or a charset other than UTF-8', 401: 'no valid token', 403: 'role not reviewer or admin', 406: 'Accept excludes both application/dicom+json and multipart/related; type="application/dicom+xml"' },
});

/** Search results and metadata: DICOM JSON by default, or the Native DICOM Model. */
const MODEL_MEDIA = ['application/dicom+json', 'multipart/related; type="application/dicom+xml"'];
const INSTANCE_MEDIA = { response: ['multipart/related; type="application/dicom"'] };

const retrieveResponses = {
  200: 'multipart/related; type="application/dicom", one part per instance as stored, or Explicit VR Little Endian when asked (transfer-syntax=1.2.840.10008.1.2.1)',
  400: 'not a UID, or a charset other than UTF-8',
  401: 'no valid token',
  403: 'role not reviewer or admin',
  404: 'no such study, series or instance',
  406: 'the Accept header asks for something Limen cannot make (another transfer syntax, or decompression without a codec)',
  410: 'the study was erased',
  500: 'a stored instance failed its integrity check (never served)',
} as const;

const metadataResponses = { ...retrieveResponses, 200: 'every instance as DICOM JSON, or as multipart/related; type="application/dicom+xml" when asked; bulk data and pixel data as BulkDataURI', 406: 'Accept excludes both application/dicom+json and multipart/related; type="application/dicom+xml"' };

export const dicomwebReadRouteDocs: readonly RouteDoc[] = [
  qidoDoc('/dicomweb/studies', 'search for studies (ModalitiesInStudy, NumberOfStudyRelatedSeries/Instances, RetrieveURL)'),
  qidoDoc('/dicomweb/series', 'search for series in all studies (study attributes included)'),
  qidoDoc('/dicomweb/studies/:study/series', "search for a study's series"),
  qidoDoc('/dicomweb/instances', 'search for instances in all studies'),
  qidoDoc('/dicomweb/studies/:study/instances', "search for a study's instances (series attributes included)"),
  qidoDoc('/dicomweb/studies/:study/series/:series/instances', "search for a series' instances"),
  { method: 'GET', path: '/dicomweb/studies/:study', summary: 'WADO-RS: every instance of a study, streamed.', roles: ROLES, media: INSTANCE_MEDIA, responses: retrieveResponses },
  { method: 'GET', path: '/dicomweb/studies/:study/series/:series', summary: 'WADO-RS: every instance of a series, streamed.', roles: ROLES, media: INSTANCE_MEDIA, responses: retrieveResponses },
  { method: 'GET', path: '/dicomweb/studies/:study/series/:series/instances/:instance', summary: 'WADO-RS: one instance.', roles: ROLES, media: INSTANCE_MEDIA, responses: retrieveResponses },
  { method: 'GET', path: '/dicomweb/studies/:study/metadata', summary: 'WADO-RS: metadata of every instance of a study.', roles: ROLES, media: { response: MODEL_MEDIA }, responses: metadataResponses },
  { method: 'GET', path: '/dicomweb/studies/:study/series/:series/metadata', summary: 'WADO-RS: metadata of every instance of a series.', roles: ROLES, media: { response: MODEL_MEDIA }, responses: metadataResponses },
  { method: 'GET', path: '/dicomweb/studies/:study/series/:series/instances/:instance/metadata', summary: 'WADO-RS: metadata of one instance.', roles: ROLES, media: { response: MODEL_MEDIA }, responses: metadataResponses },
  {
    method: 'GET',
    path: '/dicomweb/studies/:study/series/:series/instances/:instance/frames/:frames',
    summary:
      'WADO-RS: frames (1-based, comma-separated, each once). Uncompressed: multipart/related; type="application/octet-stream" (one-bit frames ' +
      'shifted to start at bit 0). Compressed: as stored with its media type (image/jls, image/jp2, image/jpeg, image/dicom-rle...) or ' +
      'application/octet-stream; transfer-syntax=*, or decompressed when asked for application/octet-stream and a codec exists.',
    roles: ROLES,
    media: { response: ['multipart/related; type="application/octet-stream"', 'multipart/related; type="image/jls"', 'multipart/related; type="image/jp2"', 'multipart/related; type="image/jpeg"', 'multipart/related; type="image/dicom-rle"', 'application/octet-stream'] },
    responses: { ...retrieveResponses, 200: 'the frames, multipart (or single part when one bare media type and one frame are asked for)', 400: 'not a UID, or a malformed frame list (one that names a frame twice too)', 404: 'no such instance, no pixel data, or a frame past the last' },
  },
  {
    method: 'GET',
    path: '/dicomweb/studies/:study/series/:series/instances/:instance/bulk/:path',
    summary: 'WADO-RS bulk data: the value a BulkDataURI of the metadata points to (tag, or tag/item/tag... inside sequences).',
    roles: ROLES,
    media: { response: ['multipart/related; type="application/octet-stream"', 'application/octet-stream'] },
    responses: { ...retrieveResponses, 200: 'application/octet-stream (multipart/related by default); encapsulated pixel data as its frames', 400: 'not a bulk data path', 404: 'no such instance or no value at this path' },
  },
];

/** The read routes, relative to the mount path (`/dicomweb`). */
export function dicomwebReadRoutes(deps: DicomwebReadDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const auth = deps.auth ?? bearerAuth({ tokens: deps.tokens, roles: DICOMWEB_READ_ROLES, onRejected: deps.onAuthRejected });
  const index = new StudyIndex(deps.source);
  const cache = deps.instanceCache instanceof InstanceCache ? deps.instanceCache : new InstanceCache(deps.instanceCache);
  const codecs = deps.codecs ?? new Codecs();
  const mountPath = deps.mountPath ?? '/dicomweb';
  const logger = deps.logger;

  const wado = (c: Context<AppEnv>): WadoContext => ({
    source: deps.source,
    index,
    cache,
    codecs,
    logger,
    requestId: c.get('requestId') ?? '-',
    root: `${deps.publicOrigin ?? new URL(c.req.url).origin}${mountPath}`,
  });

  const qido = (level: QidoLevel) => async (c: Context<AppEnv>): Promise<Response> => {
    const params = queryOf(c);
    const rendition = modelRendition(c, params);
    if (!rendition) throw new HttpError(406, 'not-acceptable', `search results are ${MODEL_OFFER}`);
    const scope: SearchScope = { studyInstanceUID: uidParam(c, 'study'), seriesInstanceUID: uidParam(c, 'series') };
    let query;
    try {
      query = parseQidoQuery(params, level);
    } catch (err) {
      if (err instanceof QidoQueryError) throw new HttpError(400, err.code, err.message, { details: { parameter: err.parameter } });
      throw err;
    }
    const w = wado(c);
    const ctx: SearchContext = { source: deps.source, index, root: w.root, dataset: async (sop) => parse(await readBlob(w, sop)).dataset };
    const result = await search(ctx, query, scope);
    const headers = new Headers();
    const warnings = [...query.warnings];
    if (result.remaining > 0) warnings.push(`There are ${result.remaining} additional results that can be requested`);
    // The warn-agent is the service's base URI, as PS3.18 §8.3.4 words these warnings.
    for (const text of warnings) headers.append('warning', `299 ${w.root} "${warnText(text)}"`);
    // No match at all (or none past `offset`) is 204 No Content (PS3.18 §8.3.4.4.1).
    if (result.matches.length === 0) return new Response(null, { status: 204, headers });
    if (level !== 'study' && scope.studyInstanceUID === undefined && deps.onStudiesRead) {
      const studies = new Set(result.matches.map((m) => m['0020000D']?.Value?.[0]).filter((u): u is string => typeof u === 'string'));
      await deps.onStudiesRead(c.get('identity'), [...studies]);
    }
    return modelResponse(rendition, result.matches, headers);
  };

  const metadata = async (c: Context<AppEnv>): Promise<Response> => {
    const rendition = modelRendition(c, queryOf(c));
    if (!rendition) throw new HttpError(406, 'not-acceptable', `metadata is ${MODEL_OFFER}`);
    return modelResponse(rendition, await retrieveMetadata(wado(c), target(c)), new Headers());
  };

  const retrieve = (c: Context<AppEnv>) => retrieveInstances(wado(c), target(c), accepted(c));

  const frames = (c: Context<AppEnv>) => {
    const raw = c.req.param('frames') ?? '';
    if (!/^\d+(,\d+)*$/.test(raw)) throw new HttpError(400, 'invalid-frame-list', 'frames are 1-based numbers separated by commas, e.g. 1,3,5');
    const numbers = raw.split(',').map(Number);
    if (numbers.some((n) => n < 1)) throw new HttpError(400, 'invalid-frame-list', 'frame numbers start at 1');
    // PS3.18 asks for non-duplicate frame numbers; a list of one frame repeated would multiply the answer.
    const seen = new Set<number>();
    const twice = numbers.find((n) => seen.size === seen.add(n).size);
    if (twice !== undefined) throw new HttpError(400, 'invalid-frame-list', `frame ${twice} is listed more than once; a frame list names each frame once`);
    return retrieveFrames(wado(c), target(c) as Required<Target>, numbers, accepted(c));
  };

  const bulk = (c: Context<AppEnv>) => {
    const path = parseBulkPath(c.req.param('path') ?? '');
    if (!path) throw new HttpError(400, 'invalid-bulk-path', 'a bulk data path is a tag (8 hex digits), or tag/item/tag... inside sequences');
    return retrieveBulk(wado(c), target(c) as Required<Target>, path, accepted(c));
  };

  app.get('/studies', auth, qido('study'));
  app.get('/series', auth, qido('series'));
  app.get('/instances', auth, qido('instance'));
  app.get('/studies/:study/series', auth, qido('series'));
  app.get('/studies/:study/instances', auth, qido('instance'));
  app.get('/studies/:study/series/:series/instances', auth, qido('instance'));

  app.get('/studies/:study', auth, retrieve);
  app.get('/studies/:study/series/:series', auth, retrieve);
  app.get('/studies/:study/series/:series/instances/:instance', auth, retrieve);
  app.get('/studies/:study/metadata', auth, metadata);
  app.get('/studies/:study/series/:series/metadata', auth, metadata);
  app.get('/studies/:study/series/:series/instances/:instance/metadata', auth, metadata);
  app.get('/studies/:study/series/:series/instances/:instance/frames/:frames', auth, frames);
  // Any characters, line breaks too: a path that is not one is a 400 that says what a bulk data path is.
  app.get('/studies/:study/series/:series/instances/:instance/bulk/:path{[\\s\\S]+}', auth, bulk);
  return app;
}

/**
 * The request's query parameters, after the checks every read route shares: an answer in a
 * charset other than UTF-8 cannot be given, and the accept parameter names media types without
 * wildcards, of one kind.
 */
function queryOf(c: Context<AppEnv>): URLSearchParams {
  const query = dicomwebQuery(c.req.url);
  const unsupported = unsupportedCharset(query);
  if (unsupported) throw new HttpError(400, 'unsupported-charset', unsupported);
  const fault = acceptParameterFault(query);
  if (fault) throw new HttpError(400, fault.code, fault.reason);
  return query;
}

/** The Accept ranges of a retrieve: the `accept` query parameter's, then the header's. */
function accepted(c: Context<AppEnv>) {
  return acceptedRanges(queryOf(c), c.req.header('accept'));
}

/** DICOM JSON or XML for search results and metadata: the `accept` query parameter's choice, else the header's. */
function modelRendition(c: Context<AppEnv>, query: URLSearchParams): ModelRendition | null {
  for (const accept of acceptValues(query, c.req.header('accept'))) {
    const rendition = chooseDicomModel(accept, 'multipart');
    if (rendition) return rendition;
  }
  return null;
}

/** What search results and metadata are offered as, for a 406. */
const MODEL_OFFER = `application/dicom+json or multipart/related; type="${DICOM_XML}"`;

/** Datasets as a DICOM JSON array, or as a `multipart/related` body of one XML document each. */
function modelResponse(rendition: ModelRendition, datasets: readonly JsonDataset[], headers: Headers): Response {
  if (rendition.model === 'json') {
    headers.set('content-type', rendition.contentType);
    return new Response(stringifyDicomJson(datasets), { status: 200, headers });
  }
  const encoder = new TextEncoder();
  const boundary = newBoundary();
  const parts = datasets.map((d) => ({ contentType: DICOM_XML, body: encoder.encode(toNativeDicomXml(d)) }));
  return bytesResponse(multipartChunks(parts, boundary), multipartContentType(DICOM_XML, boundary), headers);
}

/** The study, series and instance named by the path, each checked to be a UID. */
function target(c: Context<AppEnv>): Target {
  return { study: uidParam(c, 'study')!, series: uidParam(c, 'series'), instance: uidParam(c, 'instance') };
}

function uidParam(c: Context<AppEnv>, name: 'study' | 'series' | 'instance'): string | undefined {
  const v = c.req.param(name);
  if (v === undefined) return undefined;
  if (!isDicomUID(v)) throw new HttpError(400, 'invalid-uid', `the path does not hold a valid ${name === 'study' ? 'Study' : name === 'series' ? 'Series' : 'SOP'} Instance UID`);
  return v;
}

/**
 * A warning's text as a header's quoted-string (RFC 9110 §5.6.4): it can quote parameter names as
 * the client sent them, so what is not printable ASCII (a line break, a character beyond Latin-1)
 * is percent-encoded, and quotes and backslashes are left out.
 */
function warnText(text: string): string {
  const percent = (c: string) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  return text.replace(/["\\]/g, '').replace(/[^\x20-\x7e]/gu, percent);
}
