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
  if (!header || header.trim() === '') return 1;
  let best = { specificity: -1, q: 0 };
  for (const raw of splitOutsideQuotes(header)) {
    const m = parseMediaType(raw.trim());
    if (!m) continue;
    const range = canonical(m.essence);
    const specificity = range === essence ? 2 : range.endsWith('/*') && range !== '*/*' && essence.startsWith(range.slice(0, -1)) ? 1 : range === '*/*' ? 0 : -1;
    if (specificity <= best.specificity) continue;
    const q = m.parameters.q === undefined ? 1 : Number(m.parameters.q);
    best = { specificity, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0 };
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
