/**
 * What a WADO-RS response will be, chosen from the client's Accept ranges and what Limen can
 * make of the stored instances (PS3.18 §8.7.3). Pure: the handlers act on the choice, and `null`
 * means 406 Not Acceptable.
 *
 * Limen's reading of an absent `transfer-syntax` parameter: for instances it means "as stored"
 * (what OHIF, dicomweb-client and Orthanc expect when they leave it out); for frames asked as
 * `application/octet-stream` it means uncompressed, which is that media type's meaning.
 */
import { multipartPartType, multipartQualityOf, partTypeTakes, qualityOf, rangeTakes, type AcceptRange } from './accept.js';
import { DICOM_JSON } from './dicom-json.js';
import { DICOM_XML } from './dicom-xml.js';
import { canSendExplicitLittleEndian, EXPLICIT_VR_LITTLE_ENDIAN, frameMediaType, isEncapsulated } from './transfer-syntax.js';

const DICOM = 'application/dicom';
const OCTET = 'application/octet-stream';

/** Instances as stored, or all as Explicit VR Little Endian. */
export type InstanceRendition = 'stored' | 'explicit-le';

/**
 * Chooses how to send instances stored in `storedSyntaxes` (study, series or one instance);
 * `decodable` says which can be sent as Explicit VR Little Endian (one instance's own layout can
 * say no where its transfer syntax would say yes: then the next acceptable range is taken).
 */
export function chooseInstanceRendition(ranges: readonly AcceptRange[], storedSyntaxes: readonly string[], decodable: (ts: string) => boolean = canSendExplicitLittleEndian): InstanceRendition | null {
  for (const range of ranges) {
    const part = multipartPartType(range);
    if (part === null || !partTypeTakes(part, DICOM)) continue;
    const ts = range.transferSyntax;
    if (ts === undefined || ts === '*' || storedSyntaxes.every((s) => s === ts)) return 'stored';
    if (ts === EXPLICIT_VR_LITTLE_ENDIAN && storedSyntaxes.every(decodable)) return 'explicit-le';
  }
  return null;
}

/** How frames go out: their native bytes, the compressed bytes as stored, or decompressed. */
export interface FrameRendition {
  kind: 'native' | 'stored' | 'decoded';
  /** The Content-Type of each frame, transfer-syntax parameter included. */
  contentType: string;
  /** One part without a multipart wrapper (only when the client asked for that and for one frame). */
  singlePart: boolean;
}

/**
 * Chooses how to send frames of an instance stored in `storedSyntax`; `layoutDecodable` false when
 * its frames' layout cannot be decompressed (then a range that needs it is passed over, not chosen
 * and failed).
 */
export function chooseFrameRendition(ranges: readonly AcceptRange[], storedSyntax: string, frameCount: number, layoutDecodable = true): FrameRendition | null {
  const encapsulated = isEncapsulated(storedSyntax);
  const media = frameMediaType(storedSyntax);
  const decodable = encapsulated && layoutDecodable && canSendExplicitLittleEndian(storedSyntax);
  const native: Omit<FrameRendition, 'singlePart'> = { kind: encapsulated ? 'decoded' : 'native', contentType: `${OCTET}; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}` };
  const stored = (type: string): Omit<FrameRendition, 'singlePart'> => ({ kind: 'stored', contentType: `${type}; transfer-syntax=${storedSyntax}` });

  for (const range of ranges) {
    let part = multipartPartType(range);
    let singlePart = false;
    if (part === null) {
      // A bare media type: one frame in a single-part body.
      if (frameCount !== 1 || range.essence.startsWith('multipart/')) continue;
      part = range.essence;
      singlePart = true;
    }
    const ts = range.transferSyntax;
    if (!encapsulated) {
      if (partTypeTakes(part, OCTET) && (ts === undefined || ts === '*' || ts === EXPLICIT_VR_LITTLE_ENDIAN)) return { ...native, singlePart };
      continue;
    }
    const asStored = ts === undefined || ts === '*' || ts === storedSyntax;
    if (part === undefined || part === '*/*') {
      if (asStored) return { ...stored(media), singlePart };
      if (ts === EXPLICIT_VR_LITTLE_ENDIAN && decodable) return { ...native, singlePart };
      continue;
    }
    if (part === OCTET) {
      if (ts === '*' || ts === storedSyntax) return { ...stored(OCTET), singlePart };
      if ((ts === undefined || ts === EXPLICIT_VR_LITTLE_ENDIAN) && decodable) return { ...native, singlePart };
      continue;
    }
    if (partTypeTakes(part, media) && asStored) return { ...stored(media), singlePart };
  }
  return null;
}

/** Bulk data goes as `application/octet-stream`, in a multipart body unless asked for bare. */
export function chooseBulkRendition(ranges: readonly AcceptRange[]): { singlePart: boolean } | null {
  for (const range of ranges) {
    const part = multipartPartType(range);
    if (part !== null) {
      if (partTypeTakes(part, OCTET)) return { singlePart: false };
      continue;
    }
    if (rangeTakes(range, OCTET)) return { singlePart: true };
  }
  return null;
}

/** Attributes as DICOM JSON (PS3.18 Annex F) or as the Native DICOM Model in XML (PS3.19 §A.1). */
export type ModelRendition = { model: 'json'; contentType: 'application/dicom+json' | 'application/json' } | { model: 'xml'; multipart: boolean };

/**
 * How to answer with attributes: the rendition the Accept header rates highest, a more specific
 * range overriding a wider one (`application/dicom+json;q=0, *\/*` refuses JSON); DICOM JSON on a
 * tie and without Accept, as PS3.18 makes it the default. XML comes as `multipart/related;
 * type="application/dicom+xml"`, a document per result, where the answer is a list (search
 * results and metadata: `xml: 'multipart'`), and as one `application/dicom+xml` document where it
 * is one dataset (a Store Instances Response: `xml: 'single'`).
 */
export function chooseDicomModel(accept: string | undefined | null, xml: 'single' | 'multipart'): ModelRendition | null {
  const candidates: Array<[number, ModelRendition]> = [
    [qualityOf(accept, DICOM_JSON), { model: 'json', contentType: DICOM_JSON }],
    [qualityOf(accept, 'application/json'), { model: 'json', contentType: 'application/json' }],
    [xml === 'single' ? qualityOf(accept, DICOM_XML) : multipartQualityOf(accept, DICOM_XML), { model: 'xml', multipart: xml === 'multipart' }],
  ];
  let best: [number, ModelRendition | null] = [0, null];
  for (const candidate of candidates) if (candidate[0] > best[0]) best = candidate;
  return best[1];
}
