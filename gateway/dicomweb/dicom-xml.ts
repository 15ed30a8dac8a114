/**
 * The Native DICOM Model (PS3.19 §A.1), DICOMweb's XML representation beside DICOM JSON
 * (`application/dicom+xml`; PS3.18 §8.7.3 requires an origin server to offer both). It is made
 * from the DICOM JSON model (PS3.18 Annex F), whose mapping PS3.18 §F.3 defines, so both
 * renditions of an answer hold the same attributes, values and bulk data references.
 */
import { dicom } from '../../anonymizer/index.js';
import type { JsonAttribute, JsonDataset } from './dicom-json.js';

export const DICOM_XML = 'application/dicom+xml';
export const NATIVE_DICOM_NAMESPACE = 'http://dicom.nema.org/PS3.19/models/NativeDICOM';

/** A person name group's components, in the order PS3.5 §6.2.1.1 gives them between carets. */
const PN_COMPONENTS = ['FamilyName', 'GivenName', 'MiddleName', 'NamePrefix', 'NameSuffix'] as const;
const PN_GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;

/** One dataset as a whole XML document. */
export function toNativeDicomXml(dataset: JsonDataset): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', `<NativeDicomModel xmlns="${NATIVE_DICOM_NAMESPACE}" xml:space="preserve">`];
  writeDataset(dataset, out);
  out.push('</NativeDicomModel>\n');
  return out.join('');
}

function writeDataset(dataset: JsonDataset, out: string[]): void {
  for (const key of Object.keys(dataset).sort()) writeAttribute(key, dataset[key], dataset, out);
}

function writeAttribute(key: string, attr: JsonAttribute, dataset: JsonDataset, out: string[]): void {
  const tag = parseInt(key, 16);
  const group = tag >>> 16;
  const element = tag & 0xffff;
  let xmlTag = key;
  let named = '';
  if (group % 2 === 1 && element >= 0x1000) {
    // A private data element names its creator, not the block it happened to be given
    // (PS3.19 Table A.1.5-2): gggg,xxee becomes gggg00ee with the value of gggg,00xx. One whose
    // creator is missing is written the same way without it, as DCMTK writes it.
    const creator = dataset[key.slice(0, 4) + '00' + key.slice(4, 6)]?.Value?.[0];
    xmlTag = `${key.slice(0, 4)}00${key.slice(6)}`;
    if (typeof creator === 'string') named = ` privateCreator="${escapeXml(creator, true)}"`;
  } else {
    // Standard attributes carry their keyword; private creators and the command group have none here.
    const keyword = dicom.lookup(tag)?.keyword;
    if (keyword) named = ` keyword="${keyword}"`;
  }
  out.push(`<DicomAttribute tag="${xmlTag}" vr="${attr.vr}"${named}>`);
  if (attr.BulkDataURI !== undefined) out.push(`<BulkData uri="${escapeXml(attr.BulkDataURI, true)}"/>`);
  else if (attr.InlineBinary !== undefined) out.push(`<InlineBinary>${attr.InlineBinary}</InlineBinary>`);
  else (attr.Value ?? []).forEach((value, i) => writeValue(attr.vr, value, i + 1, out));
  out.push('</DicomAttribute>');
}

function writeValue(vr: string, value: unknown, number: number, out: string[]): void {
  if (vr === 'SQ') {
    out.push(`<Item number="${number}">`);
    if (value) writeDataset(value as JsonDataset, out);
    out.push('</Item>');
    return;
  }
  if (vr === 'PN') {
    out.push(`<PersonName number="${number}">`);
    if (value && typeof value === 'object') writePersonName(value as Record<string, unknown>, out);
    out.push('</PersonName>');
    return;
  }
  // An empty value among others (JSON null) keeps its place and number.
  out.push(value === null || value === undefined ? `<Value number="${number}"/>` : `<Value number="${number}">${escapeXml(String(value), false)}</Value>`);
}

function writePersonName(name: Record<string, unknown>, out: string[]): void {
  for (const group of PN_GROUPS) {
    const text = name[group];
    if (typeof text !== 'string' || text === '') continue;
    out.push(`<${group}>`);
    // More than five components is malformed: the rest stay in the last one rather than vanish.
    const parts = text.split('^');
    const components = [...parts.slice(0, 4), parts.slice(4).join('^')];
    components.forEach((component, i) => {
      if (component !== '') out.push(`<${PN_COMPONENTS[i]}>${escapeXml(component, false)}</${PN_COMPONENTS[i]}>`);
    });
    out.push(`</${group}>`);
  }
}

/**
 * Text as XML 1.0 character data. The markup characters are escaped, a carriage return is kept
 * as a reference (a parser would turn a literal one into a line feed), and the control characters
 * XML 1.0 cannot carry at all, escaped or not, become U+FFFD.
 */
export function escapeXml(text: string, attribute: boolean): string {
  return text.replace(attribute ? /[&<>"\r\n\t]|[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu : /[&<>\r]|[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, (ch) => {
    switch (ch) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      case '\r': return '&#13;';
      case '\n': return '&#10;';
      case '\t': return '&#9;';
      default: return '\uFFFD';
    }
  });
}
