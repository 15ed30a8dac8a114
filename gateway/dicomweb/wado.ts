/**
 * WADO-RS (PS3.18 §10.4): instances as `multipart/related; type="application/dicom"`, metadata as
 * DICOM JSON with BulkDataURIs, frames, and bulk data. Every byte served is a stored, de-identified
 * instance that authenticated on decryption; one that does not is never sent (500), and a study
 * whose key was destroyed is gone (410).
 */
import { dicom } from '../../anonymizer/index.js';
import { isStorageError, type InstanceBlob, type InstanceInfo } from '../../storage/index.js';
import { HttpError } from '../http/errors.js';
import type { Logger } from '../log/index.js';
import type { AcceptRange } from './accept.js';
import { tagKey, toDicomJson, type JsonDataset } from './dicom-json.js';
import { encapsulatedFrames, FrameError, nativeFrame, pixelDataOf, pixelLayout, assertFrame, type PixelLayout } from './frames.js';
import { bulkPath } from './bulk-path.js';
import { DicomwebLog } from './read-messages.js';
import type { DicomwebReadSource } from './read-source.js';
import type { StudyIndex } from './study-index.js';
import { matchesListing, type CachedInstance, type InstanceCache } from './instance-cache.js';
import { decodeFrame, layoutDecodable, toExplicitLittleEndian, TranscodeError, undecodableLayout, type FrameDecoders } from './transcode.js';
import { bytesResponse, multipartChunks, multipartContentType, multipartStream, newBoundary, type Part } from './multipart-writer.js';
import { chooseBulkRendition, chooseFrameRendition, chooseInstanceRendition } from './wado-negotiation.js';
import { canSendExplicitLittleEndian, EXPLICIT_VR_LITTLE_ENDIAN, frameMediaType, isEncapsulated } from './transfer-syntax.js';

const DICOM = 'application/dicom';
const OCTET = 'application/octet-stream';
const AVAILABLE_TRANSFER_SYNTAX_UID = 0x00083002;
/** Instances read ahead while a study's metadata is built. */
const METADATA_CONCURRENCY = 4;

export interface WadoContext {
  source: DicomwebReadSource;
  index: StudyIndex;
  /** Instances lately decrypted and parsed, for metadata, frame and bulk data requests. */
  cache: InstanceCache;
  codecs: FrameDecoders;
  logger: Logger;
  requestId: string;
  /** The absolute URL of the DICOMweb root (`http://host/dicomweb`), for BulkDataURIs. */
  root: string;
}

/** A study, series or instance named by the path. */
export interface Target {
  study: string;
  series?: string;
  instance?: string;
}

/** The instances of a study or series; 404 when there are none. */
export async function instancesOf(ctx: WadoContext, t: Target): Promise<InstanceInfo[]> {
  const study = await ctx.index.study(t.study);
  const found = study ? await ctx.source.listInstances(t.study, t.series) : [];
  if (found.length === 0) throw new HttpError(404, 'not-found', `no ${t.series ? 'series' : 'study'} with this UID`);
  return found;
}

/**
 * One instance, decrypted, if it is where the path says: a frame request (a viewer makes one per
 * slice) costs one instance lookup, not a listing of its study.
 */
export async function instanceBlob(ctx: WadoContext, t: Required<Target>): Promise<InstanceBlob> {
  const blob = await readBlob(ctx, t.instance);
  if (blob.studyInstanceUID !== t.study || blob.seriesInstanceUID !== t.series) throw new HttpError(404, 'not-found', 'no instance with this UID in this study and series');
  return blob;
}

/**
 * One instance parsed, for frames and bulk data: from the cache while storage still lists it where
 * the path says and as it was decrypted. A viewer reads a series' metadata before its frames, and
 * the metadata read fills the cache, so the two cost one decryption per instance between them. On
 * a miss, only a multi-frame instance is kept (its other frames are likely to follow); a
 * single-frame one has just been served whole.
 */
async function parsedInstance(ctx: WadoContext, t: Required<Target>): Promise<CachedInstance> {
  const hit = ctx.cache.get(t.instance);
  if (hit) {
    const info = await ctx.source.getInstance(t.instance);
    if (info && info.studyInstanceUID === t.study && info.seriesInstanceUID === t.series && matchesListing(hit, info)) return hit;
    ctx.cache.delete(t.instance);
  }
  const entry = parsedEntry(await instanceBlob(ctx, t));
  if (numberOfFrames(entry.parsed.dataset) > 1) ctx.cache.set(entry);
  return entry;
}

/** An instance of a listing just read from storage, parsed, and kept for the frame requests that follow. */
async function listedInstance(ctx: WadoContext, info: InstanceInfo): Promise<CachedInstance> {
  const hit = ctx.cache.get(info.sopInstanceUID);
  if (hit && matchesListing(hit, info)) return hit;
  const entry = parsedEntry(await readBlob(ctx, info.sopInstanceUID));
  ctx.cache.set(entry);
  return entry;
}

function parsedEntry(blob: InstanceBlob): CachedInstance {
  return { blob, parsed: parse(blob) };
}

/** Why one instance's compressed frames cannot be decompressed here, or undefined. */
function undecodable(blob: InstanceBlob): string | undefined {
  try {
    return undecodableLayout(pixelLayout(parse(blob).dataset));
  } catch (err) {
    return (err as Error).message;
  }
}

function numberOfFrames(ds: dicom.Dataset): number {
  return Number(dicom.stringOf(dicom.find(ds, 0x00280008)) || '1');
}

/** The instances of the target, in a multipart/related body (streamed for a study or series). */
export async function retrieveInstances(ctx: WadoContext, t: Target, accept: readonly AcceptRange[]): Promise<Response> {
  const one = t.instance !== undefined ? await instanceBlob(ctx, t as Required<Target>) : undefined;
  const instances: InstanceInfo[] = one ? [one] : await instancesOf(ctx, t);
  const syntaxes = [...new Set(instances.map((i) => i.transferSyntaxUID))];
  // One instance's own layout is read only when a range asks for it decompressed.
  let looked = false;
  let whyNot: string | undefined;
  const undecodableOne = (): string | undefined => {
    if (!looked && one && isEncapsulated(one.transferSyntaxUID)) whyNot = undecodable(one);
    looked = true;
    return whyNot;
  };
  const rendition = chooseInstanceRendition(accept, syntaxes, one ? (ts) => canSendExplicitLittleEndian(ts) && undecodableOne() === undefined : undefined);
  if (!rendition) {
    const as = undecodableOne() ? `as stored (${whyNot})` : `as stored or as ${EXPLICIT_VR_LITTLE_ENDIAN}`;
    throw new HttpError(406, 'not-acceptable', `the instances are stored as ${syntaxes.join(', ')}; Limen sends them ${as} (multipart/related; type="${DICOM}")`);
  }
  const boundary = newBoundary();
  const part = async (info: InstanceInfo): Promise<Part> => {
    const blob = one ?? (await readBlob(ctx, info.sopInstanceUID));
    // Each part names the instance resource it represents (PS3.18 §8.6.1).
    const headers = { 'Content-Location': `${ctx.root}/studies/${info.studyInstanceUID}/series/${info.seriesInstanceUID}/instances/${info.sopInstanceUID}` };
    if (rendition === 'stored') return { contentType: `${DICOM}; transfer-syntax=${blob.transferSyntaxUID}`, body: blob.bytes, headers };
    return { contentType: `${DICOM}; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`, body: await explicitLE(blob.bytes, ctx), headers };
  };
  const headers = { 'content-type': multipartContentType(DICOM, boundary) };
  if (instances.length === 1) return bytesResponse(multipartChunks([await part(instances[0])], boundary), headers['content-type']);

  // The first part is made before the status goes out, so the common failures still get theirs.
  const first = await part(instances[0]);
  async function* parts(): AsyncGenerator<Part> {
    yield first;
    for (const info of instances.slice(1)) yield await part(info);
  }
  const body = multipartStream(parts(), boundary, (err) => ctx.logger.error(DicomwebLog.streamFailed({ requestId: ctx.requestId, err })));
  return new Response(body, { headers });
}

/** DICOM JSON of every instance of the target, bulk data by BulkDataURI. */
export async function retrieveMetadata(ctx: WadoContext, t: Target): Promise<JsonDataset[]> {
  if (t.instance !== undefined) {
    const one = t as Required<Target>;
    const info = await ctx.source.getInstance(one.instance);
    if (!info || info.studyInstanceUID !== one.study || info.seriesInstanceUID !== one.series) throw new HttpError(404, 'not-found', 'no instance with this UID in this study and series');
    return [metadataOf(ctx, await listedInstance(ctx, info))];
  }
  const instances = await instancesOf(ctx, t);
  const out: JsonDataset[] = new Array(instances.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < instances.length) {
      const i = next++;
      out[i] = metadataOf(ctx, await listedInstance(ctx, instances[i]));
    }
  };
  await Promise.all(Array.from({ length: Math.min(METADATA_CONCURRENCY, instances.length) }, worker));
  return out;
}

function metadataOf(ctx: WadoContext, { blob, parsed: { dataset } }: CachedInstance): JsonDataset {
  const base = `${ctx.root}/studies/${blob.studyInstanceUID}/series/${blob.seriesInstanceUID}/instances/${blob.sopInstanceUID}/bulk/`;
  const json = toDicomJson(dataset, { bulkDataURI: (path) => base + bulkPath(path) });
  // Which transfer syntax the instance is in, for clients choosing how to ask for frames.
  if (!(tagKey(AVAILABLE_TRANSFER_SYNTAX_UID) in json)) {
    json[tagKey(AVAILABLE_TRANSFER_SYNTAX_UID)] = { vr: 'UI', Value: [blob.transferSyntaxUID] };
    return Object.fromEntries(Object.entries(json).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  return json;
}

/** Frames (1-based numbers) of one instance. */
export async function retrieveFrames(ctx: WadoContext, t: Required<Target>, numbers: number[], accept: readonly AcceptRange[]): Promise<Response> {
  const { dataset, transferSyntax } = (await parsedInstance(ctx, t)).parsed;
  const layout = frameCall(() => pixelLayout(dataset));
  for (const n of numbers) frameCall(() => assertFrame(layout, n - 1));
  const rendition = chooseFrameRendition(accept, transferSyntax.uid, numbers.length, layoutDecodable(layout));
  if (!rendition) {
    throw new HttpError(406, 'not-acceptable', `the frames are stored as ${transferSyntax.uid}; acceptable: ${frameOffer(transferSyntax.uid, transferSyntax.encapsulated)}`);
  }
  const pixels = pixelDataOf(dataset)!;
  let bodies: Uint8Array[];
  if (rendition.kind === 'native') {
    if (!pixels.value) throw new HttpError(500, 'unreadable-instance', 'the stored instance has encapsulated pixel data in a native transfer syntax');
    bodies = numbers.map((n) => frameCall(() => nativeFrame(pixels.value!, layout, n - 1)));
  } else {
    const frames = compressedFrames(pixels, layout, dataset);
    bodies = rendition.kind === 'stored' ? numbers.map((n) => frames[n - 1]) : await Promise.all(numbers.map((n) => decoded(ctx, frames[n - 1], layout, transferSyntax.uid)));
  }
  if (rendition.singlePart) return bytesResponse([bodies[0]], rendition.contentType);
  const boundary = newBoundary();
  const partType = rendition.contentType.split(';')[0];
  return bytesResponse(multipartChunks(bodies.map((body) => ({ contentType: rendition.contentType, body })), boundary), multipartContentType(partType, boundary));
}

/** The value at a bulk path of one instance. */
export async function retrieveBulk(ctx: WadoContext, t: Required<Target>, path: number[], accept: readonly AcceptRange[]): Promise<Response> {
  const { dataset, transferSyntax } = (await parsedInstance(ctx, t)).parsed;
  const el = elementAt(dataset, path);
  if (!el || el.items) throw new HttpError(404, 'not-found', 'the instance has no bulk data at this path');
  if (el.fragments) return encapsulatedBulk(ctx, dataset, el, transferSyntax.uid, accept);
  const rendition = chooseBulkRendition(accept);
  if (!rendition) throw new HttpError(406, 'not-acceptable', `bulk data is sent as ${OCTET}, single part or multipart/related`);
  const body = el.value ?? new Uint8Array(0);
  if (rendition.singlePart) return bytesResponse([body], OCTET);
  const boundary = newBoundary();
  return bytesResponse(multipartChunks([{ contentType: OCTET, body }], boundary), multipartContentType(OCTET, boundary));
}

/**
 * Encapsulated Pixel Data as bulk data, negotiated as frames are (PS3.18 §8.7.3.3): uncompressed,
 * the frames decoded one after the other as the native value would hold them, in
 * `application/octet-stream` (the default); or as stored, a part per frame in its own media type,
 * where the client accepts that. Several compressed frames do not fit one single-part body.
 */
async function encapsulatedBulk(ctx: WadoContext, dataset: dicom.Dataset, pixels: dicom.Element, ts: string, accept: readonly AcceptRange[]): Promise<Response> {
  const layout = frameCall(() => pixelLayout(dataset));
  const rendition = chooseFrameRendition(accept, ts, 1, layoutDecodable(layout));
  const frames = compressedFrames(pixels, layout, dataset);
  if (!rendition || (rendition.kind === 'stored' && rendition.singlePart && frames.length > 1)) {
    throw new HttpError(406, 'not-acceptable', `the pixel data is stored as ${ts}; acceptable: ${frameOffer(ts, true)}${frames.length > 1 ? ', the compressed frames in a multipart body' : ''}`);
  }
  const bodies = rendition.kind === 'stored' ? frames : [concat(await Promise.all(frames.map((f) => decoded(ctx, f, layout, ts))))];
  if (rendition.singlePart) return bytesResponse(bodies, rendition.contentType);
  const boundary = newBoundary();
  return bytesResponse(multipartChunks(bodies.map((body) => ({ contentType: rendition.contentType, body })), boundary), multipartContentType(rendition.contentType.split(';')[0], boundary));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function elementAt(ds: dicom.Dataset, path: number[]): dicom.Element | undefined {
  let current: dicom.Dataset = ds;
  for (let i = 0; i < path.length; i += 2) {
    const el = dicom.find(current, path[i]);
    if (i === path.length - 1) return el;
    const item = el?.items?.[path[i + 1]];
    if (!item) return undefined;
    current = item;
  }
  return undefined;
}

function compressedFrames(pixels: dicom.Element, layout: PixelLayout, dataset: dicom.Dataset): Uint8Array[] {
  if (!pixels.fragments) throw new HttpError(500, 'unreadable-instance', 'the stored instance has native pixel data in an encapsulated transfer syntax');
  const fragments = pixels.fragments;
  return frameCall(() => encapsulatedFrames(fragments, layout.numberOfFrames, dicom.find(dataset, 0x7fe00001)?.value));
}

async function decoded(ctx: WadoContext, frame: Uint8Array, layout: PixelLayout, ts: string): Promise<Uint8Array> {
  try {
    return await decodeFrame(frame, layout, ts, ctx.codecs);
  } catch (err) {
    throw transcodeFailure(err);
  }
}

async function explicitLE(bytes: Uint8Array, ctx: WadoContext): Promise<Uint8Array> {
  try {
    return await toExplicitLittleEndian(bytes, ctx.codecs);
  } catch (err) {
    throw transcodeFailure(err);
  }
}

function transcodeFailure(err: unknown): unknown {
  if (err instanceof TranscodeError) {
    return err.code === 'not-decodable'
      ? new HttpError(406, 'not-acceptable', `${err.message}; ask for transfer-syntax=* to get it as stored`)
      : new HttpError(500, 'decode-failed', `the stored pixel data could not be decompressed: ${err.message}`);
  }
  if (err instanceof FrameError) return frameFailure(err);
  return err;
}

function frameCall<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof FrameError) throw frameFailure(err);
    throw err;
  }
}

function frameFailure(err: FrameError): HttpError {
  if (err.code === 'unreadable') return new HttpError(500, 'unreadable-instance', `the stored pixel data cannot be cut into frames: ${err.message}`);
  return new HttpError(404, err.code === 'no-pixel-data' ? 'no-pixel-data' : 'frame-not-found', err.message);
}

function frameOffer(ts: string, encapsulated: boolean): string {
  if (!encapsulated) return `multipart/related; type="${OCTET}"`;
  return `multipart/related; type="${frameMediaType(ts)}" (as stored), or type="${OCTET}"; transfer-syntax=* (as stored)`;
}

/** The decrypted, authenticated instance; storage failures as HTTP errors. */
export async function readBlob(ctx: WadoContext, sopInstanceUID: string): Promise<InstanceBlob> {
  let blob: InstanceBlob | null;
  try {
    blob = await ctx.source.getInstanceBlob(sopInstanceUID);
  } catch (err) {
    if (isStorageError(err)) {
      if (err.code === 'study-key-destroyed') throw new HttpError(410, 'erased', 'the study was erased: its data can no longer be read');
      if (err.code === 'blob-corrupt' || err.code === 'blob-missing') {
        ctx.logger.error(DicomwebLog.blobUnreadable({ requestId: ctx.requestId, sopInstanceUID, code: err.code }));
        const what = err.code === 'blob-corrupt' ? 'failed its integrity check and is not served' : 'is missing from the blob store';
        throw new HttpError(500, err.code, `the stored instance ${what}; the incident is logged`, { cause: err });
      }
    }
    throw err;
  }
  if (!blob) throw new HttpError(404, 'not-found', 'no instance with this UID');
  return blob;
}

/** Parses a stored instance; a stored instance that does not parse is Limen's fault (500). */
export function parse(blob: InstanceBlob): dicom.ParsedInstance {
  try {
    return dicom.readPart10(blob.bytes);
  } catch (err) {
    throw new HttpError(500, 'unreadable-instance', `the stored instance cannot be parsed: ${(err as Error).message}`, { cause: err });
  }
}

