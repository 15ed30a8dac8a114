/**
 * The Accept header of a DICOMweb request (RFC 9110 §12.5.1, PS3.18 §8.7.3): media ranges in
 * order of preference, each with the multipart `type` and the `transfer-syntax` it asks for.
 * The resources decide what they can offer; this only reads what the client wants.
 */
import { parseMediaType } from './media-type.js';

export interface AcceptRange {
  /** Lower-cased `type/subtype` (`multipart/related`, `application/dicom+json`, `*\/*`...). */
  essence: string;
  /** For `multipart/related`: the lower-cased `type` parameter, if any. */
  partType?: string;
  /** The `transfer-syntax` parameter, if any (`*` or a UID). */
  transferSyntax?: string;
  q: number;
}

/** Older or alternative names of frame media types, as clients still send them (dicomweb-client does). */
const ALIASES: Record<string, string> = {
  'image/x-dicom-rle': 'image/dicom-rle',
  'image/x-jls': 'image/jls',
  'image/jhc': 'image/jphc',
};

/** The acceptable ranges, most preferred first (q, then order); `*\/*` when there is no header. */
export function parseAccept(header: string | undefined | null): AcceptRange[] {
  if (!header || header.trim() === '') return [{ essence: '*/*', q: 1 }];
  const ranges: Array<AcceptRange & { at: number }> = [];
  splitOutsideQuotes(header).forEach((raw, at) => {
    const m = parseMediaType(raw.trim());
    if (!m) return;
    const q = m.parameters.q === undefined ? 1 : Number(m.parameters.q);
    if (!(q > 0)) return;
    const type = m.parameters.type;
    ranges.push({
      essence: canonical(m.essence),
      partType: type ? canonical(parseMediaType(type)?.essence ?? type.toLowerCase()) : undefined,
      transferSyntax: m.parameters['transfer-syntax'],
      q: Math.min(q, 1),
      at,
    });
  });
  return ranges.sort((a, b) => b.q - a.q || a.at - b.at).map(({ at: _at, ...r }) => r);
}

/**
 * How much the client wants `essence` (0 to 1): the q of the most specific range that matches it
 * (`type/subtype`, then `type/*`, then `*\/*`), a q=0 one included (RFC 9110 §12.5.1), so
 * `application/dicom+json;q=0, *\/*` refuses DICOM JSON. 1 when there is no header.
 */
export function qualityOf(header: string | undefined | null, essence: string): number {
  return bestQuality(header, (range) => (range === essence ? 2 : range.endsWith('/*') && range !== '*/*' && essence.startsWith(range.slice(0, -1)) ? 1 : range === '*/*' ? 0 : -1));
}

/**
 * How much the client wants a `multipart/related` body of `partType` parts (0 to 1), by the most
 * specific range that covers it, a q=0 one included, as `qualityOf` rates a single media type:
 * `multipart/related` of that type, of `type/*`, of any type (or `multipart/*`), then `*\/*`.
 */
export function multipartQualityOf(header: string | undefined | null, partType: string): number {
  return bestQuality(header, (range, type) => {
    const asked = type ? canonical(parseMediaType(type)?.essence ?? type.toLowerCase()) : undefined;
    if (range === 'multipart/related' && asked !== undefined) return asked === partType ? 3 : asked.endsWith('/*') && partType.startsWith(asked.slice(0, -1)) ? 2 : asked === '*/*' ? 1 : -1;
    if (range === 'multipart/related' || range === 'multipart/*') return 1;
    return range === '*/*' ? 0 : -1;
  });
}

/** The q of the most specific range (by `specificity`, -1 for no match); 1 when there is no header. */
function bestQuality(header: string | undefined | null, specificity: (range: string, type: string | undefined) => number): number {
  if (!header || header.trim() === '') return 1;
  let best = { specificity: -1, q: 0 };
  for (const raw of splitOutsideQuotes(header)) {
    const m = parseMediaType(raw.trim());
    if (!m) continue;
    const rank = specificity(canonical(m.essence), m.parameters.type);
    if (rank <= best.specificity) continue;
    const q = m.parameters.q === undefined ? 1 : Number(m.parameters.q);
    best = { specificity: rank, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0 };
  }
  return best.q;
}

/** True when the range takes `essence` (`type/subtype`) as a single-part response. */
export function rangeTakes(range: AcceptRange, essence: string): boolean {
  if (range.essence === '*/*' || range.essence === essence) return true;
  return range.essence.endsWith('/*') && essence.startsWith(range.essence.slice(0, -1));
}

/**
 * The part type a range asks for in a `multipart/related` response, or `undefined` for "any":
 * `*\/*`, `multipart/*` and `multipart/related` without `type` take the resource's default.
 * `null` when the range is not multipart at all.
 */
export function multipartPartType(range: AcceptRange): string | undefined | null {
  if (range.essence === '*/*' || range.essence === 'multipart/*') return undefined;
  if (range.essence !== 'multipart/related') return null;
  return range.partType;
}

/** True when a part type asked for (possibly `image/*` or `*\/*`) covers `essence`. */
export function partTypeTakes(asked: string | undefined, essence: string): boolean {
  if (asked === undefined || asked === '*/*' || asked === essence) return true;
  return asked.endsWith('/*') && essence.startsWith(asked.slice(0, -1));
}

function canonical(essence: string): string {
  return ALIASES[essence] ?? essence;
}

function splitOutsideQuotes(s: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/**
 * A DICOMweb request's query parameters. Clients encode them as HTML forms do, a space as `+`,
 * so `+` is a space, but in the `accept` parameter, where media types hold `+` as a character
 * (`application/dicom+json`, PS3.18 §8.3.1) and a space can only stand beside `;`, `,` or `=`.
 */
export function dicomwebQuery(url: string): URLSearchParams {
  const at = url.indexOf('?');
  const raw = at < 0 ? '' : url.slice(at + 1);
  const params = new URLSearchParams(raw);
  const accepts = new URLSearchParams(raw.replace(/\+/g, '%2B')).getAll('accept');
  if (accepts.length === 0) return params;
  params.delete('accept');
  for (const value of accepts) params.append('accept', value.replace(/(^|[;,=])\++|\++(?=[;,=]|$)/g, '$1'));
  return params;
}

/**
 * What the client accepts, most preferred first: the `accept` query parameter's media types
 * (PS3.18 §8.3.3.1, for links that cannot set headers), then the Accept header's. Each item is
 * an Accept value to negotiate against in turn; an absent header still takes the default.
 */
export function acceptValues(query: URLSearchParams, header: string | undefined | null): Array<string | undefined> {
  const fromQuery = query.getAll('accept').join(',').trim();
  return fromQuery ? [fromQuery, header ?? undefined] : [header ?? undefined];
}

/** The Accept ranges of `acceptValues`, the query's before the header's. */
export function acceptedRanges(query: URLSearchParams, header: string | undefined | null): AcceptRange[] {
  return acceptValues(query, header).flatMap((value) => parseAccept(value));
}

/** The DICOM media types (PS3.18 §8.7.3); a `multipart/related` range counts as its part type. */
const DICOM_MEDIA_TYPES = new Set(['application/dicom', 'application/dicom+json', 'application/dicom+xml']);

/**
 * What makes an `accept` query parameter invalid (PS3.18 §8.3.3.1, answered 400), or undefined:
 * a wildcard (`*\/*`, `image/*`, a `type` of `*`), which the parameter shall not have, or DICOM and
 * non-DICOM media types together. A `multipart/related` range counts as its part type.
 */
export function acceptParameterFault(query: URLSearchParams): { code: 'accept-wildcard' | 'mixed-accept'; reason: string } | undefined {
  const value = query.getAll('accept').join(',');
  if (value.trim() === '') return undefined;
  const ranges = parseAccept(value);
  const wildcard = ranges.find((range) => range.essence.includes('*') || range.partType?.includes('*'));
  if (wildcard) {
    const named = wildcard.partType ? `${wildcard.essence}; type=${wildcard.partType}` : wildcard.essence;
    return { code: 'accept-wildcard', reason: `the accept parameter names ${named}: it takes media types without wildcards (the Accept header may have them)` };
  }
  const named = ranges.map((range) => (range.essence === 'multipart/related' ? range.partType : range.essence)).filter((type): type is string => type !== undefined);
  const dicom = named.find((type) => DICOM_MEDIA_TYPES.has(type));
  const other = named.find((type) => !DICOM_MEDIA_TYPES.has(type));
  if (dicom === undefined || other === undefined) return undefined;
  return { code: 'mixed-accept', reason: `the accept parameter names a DICOM media type (${dicom}) and another (${other}): it may name one kind or the other, not both` };
}

/**
 * The `charset` query parameter (PS3.18 §8.3.3.2): every DICOMweb answer of Limen's is UTF-8, so
 * a list that does not name it (with a weight above 0) is a request Limen cannot serve. Returns
 * the reason, or undefined when the parameter is absent or names UTF-8.
 */
export function unsupportedCharset(query: URLSearchParams): string | undefined {
  const values = query.getAll('charset');
  if (values.length === 0) return undefined;
  const named = values.join(',').split(',').map((entry) => {
    const [name, ...params] = entry.split(';').map((s) => s.trim());
    const q = params.find((p) => /^q=/i.test(p));
    return { name: name.replace(/^"|"$/g, '').toUpperCase(), q: q ? Number(q.slice(2)) : 1 };
  });
  if (named.some((c) => (c.name === 'UTF-8' || c.name === 'ISO_IR 192' || c.name === '*') && c.q > 0)) return undefined;
  return `charset=${values.join(',')} is not offered: DICOMweb answers here are UTF-8`;
}
