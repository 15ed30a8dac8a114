/**
 * DCMTK's Native DICOM Model (`dcm2xml --native-format`, an independent implementation of PS3.19
 * §A.1) and a comparison with Limen's XML that knows where the two may legitimately differ. Both
 * documents are read by the same XML parser (Python's ElementTree), not by Limen's code.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** An attribute as both documents are reduced to: what its value elements say. */
export interface XmlAttribute {
  vr: string;
  keyword: string | null;
  privateCreator: string | null;
  values: XmlValue[];
}
/** Attributes by tag; a private one's tag (gggg00ee) followed by `|` and its creator. */
export type XmlDataset = Record<string, XmlAttribute>;
export type XmlValue =
  | { kind: 'value'; number: number; text: string }
  | { kind: 'pn'; number: number; groups: Record<string, Record<string, string>> }
  | { kind: 'item'; number: number; dataset: XmlDataset }
  | { kind: 'inline'; base64: string }
  | { kind: 'bulk'; uri: string | null };
export interface XmlDocument {
  root: string;
  space: string | null;
  dataset: XmlDataset;
}

const READ = `
import json, sys, xml.etree.ElementTree as ET
XML = '{http://www.w3.org/XML/1998/namespace}'
def name(e): return e.tag.split('}', 1)[-1]
def dataset(parent):
    out = {}
    for a in parent:
        if name(a) != 'DicomAttribute': raise SystemExit('unexpected element ' + a.tag)
        values = []
        for c in a:
            n = name(c)
            if n == 'Value': values.append({'kind': 'value', 'number': int(c.get('number')), 'text': c.text or ''})
            elif n == 'PersonName': values.append({'kind': 'pn', 'number': int(c.get('number')), 'groups': {name(g): {name(x): x.text or '' for x in g} for g in c}})
            elif n == 'Item': values.append({'kind': 'item', 'number': int(c.get('number')), 'dataset': dataset(c)})
            elif n == 'InlineBinary': values.append({'kind': 'inline', 'base64': ''.join((c.text or '').split())})
            elif n == 'BulkData': values.append({'kind': 'bulk', 'uri': c.get('uri')})
            else: raise SystemExit('unexpected element ' + c.tag)
        pc = a.get('privateCreator')
        out[a.get('tag') + ('|' + pc if pc else '')] = {'vr': a.get('vr'), 'keyword': a.get('keyword'), 'privateCreator': a.get('privateCreator'), 'values': values}
    return out
docs = []
for p in sys.argv[1:]:
    root = ET.parse(p).getroot()
    docs.append({'root': root.tag, 'space': root.get(XML + 'space'), 'dataset': dataset(root)})
print(json.dumps(docs))
`;

function withFiles<T>(contents: ReadonlyArray<string | Uint8Array>, use: (files: string[]) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'limen-xml-'));
  try {
    return use(contents.map((c, i) => {
      const f = join(dir, String(i));
      writeFileSync(f, c);
      return f;
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** XML documents as ElementTree reads them. */
export function readNativeXml(documents: readonly string[]): XmlDocument[] {
  return withFiles(documents, (files) => JSON.parse(execFileSync('/usr/bin/python3', ['-c', READ, ...files], { maxBuffer: 1 << 28 }).toString()) as XmlDocument[]);
}

/**
 * DCMTK's Native DICOM Model of each instance, binary values inline. Its text is in the XML
 * encoding DCMTK declares for the instance's character set (ISO-8859-1 for ISO_IR 100), which the
 * parser decodes; with `+U8` DCMTK would also rewrite Specific Character Set to ISO_IR 192.
 */
export function dcmtkNativeXml(instances: readonly Uint8Array[]): XmlDocument[] {
  const documents = withFiles(instances, (files) => files.map((f) => execFileSync('dcm2xml', ['--native-format', '+Xn', '+Eb', '+M', f], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] }).toString()));
  return readNativeXml(documents);
}

/** Numbers whose text forms may differ ("102005.250000" and 102005.25 are the same DS). */
const NUMERIC = new Set(['DS', 'IS', 'FL', 'FD', 'US', 'SS', 'UL', 'SL', 'SV', 'UV']);

export interface XmlCompareOptions {
  /** The bytes a BulkData uri of Limen's document points to (DCMTK inlines every binary value). */
  bulk?: (uri: string) => Uint8Array;
  /** Top-level tags to leave out of the comparison (attributes only one side adds). */
  skip?: readonly string[];
}

/** The differences between Limen's document and DCMTK's, as readable lines; [] when they agree. */
export function compareNativeXml(ours: XmlDataset, theirs: XmlDataset, options: XmlCompareOptions = {}, path = ''): string[] {
  const diffs: string[] = [];
  const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
  for (const tag of [...keys].sort()) {
    // The file meta group is not part of the data set DICOMweb describes (DCMTK prints it).
    if (tag.startsWith('0002') || (path === '' && options.skip?.includes(tag))) continue;
    const at = `${path}${tag}`;
    const a = ours[tag];
    const b = theirs[tag];
    if (!a || !b) {
      diffs.push(`${at}: only in ${a ? 'Limen' : 'DCMTK'}`);
      continue;
    }
    if (a.vr !== b.vr) diffs.push(`${at}: vr ${a.vr} against ${b.vr}`);
    // Keywords are compared where both dictionaries know the tag (DCMTK 3.6.7's is older than PS3.6 2024b).
    if (a.keyword && b.keyword && a.keyword !== b.keyword) diffs.push(`${at}: keyword ${a.keyword} against ${b.keyword}`);
    if (!a.keyword && b.keyword && !b.privateCreator) diffs.push(`${at}: no keyword (DCMTK: ${b.keyword})`);
    diffs.push(...compareValues(a, b, at, options));
  }
  return diffs;
}

function compareValues(a: XmlAttribute, b: XmlAttribute, at: string, options: XmlCompareOptions): string[] {
  const binary = (v: XmlValue[]) => v.length === 1 && (v[0].kind === 'inline' || v[0].kind === 'bulk');
  if (binary(a.values) || binary(b.values)) {
    const bytes = (v: XmlValue) => (v.kind === 'inline' ? Buffer.from(v.base64, 'base64') : v.kind === 'bulk' && v.uri && options.bulk ? Buffer.from(options.bulk(v.uri)) : undefined);
    const x = bytes(a.values[0]);
    // DCMTK 3.6.7 base64-encodes OW, OF, OL, OD and OV in big endian byte order; Limen, like its
    // DICOM JSON, its bulk data resources and pydicom, in the Little Endian of the transfer syntax.
    const y = littleEndian(bytes(b.values[0]), WORD[a.vr] ?? 1);
    if (!x || !y) return [`${at}: binary value not comparable`];
    // DCMTK inlines the value with its padding byte; the bulk data resource may leave it out.
    const same = x.equals(y) || (y.length === x.length + 1 && y.subarray(0, x.length).equals(x));
    return same ? [] : [`${at}: binary values differ (${x.length} against ${y.length} bytes)`];
  }
  if (a.values.length !== b.values.length) return [`${at}: ${a.values.length} values against ${b.values.length}`];
  const diffs: string[] = [];
  a.values.forEach((x, i) => {
    const y = b.values[i];
    const where = `${at}[${i + 1}]`;
    if (x.kind !== y.kind || ('number' in x && 'number' in y && x.number !== y.number)) {
      diffs.push(`${where}: ${JSON.stringify(x).slice(0, 80)} against ${JSON.stringify(y).slice(0, 80)}`);
    } else if (x.kind === 'value' && y.kind === 'value') {
      if (!sameText(a.vr, x.text, y.text)) diffs.push(`${where}: ${JSON.stringify(x.text)} against ${JSON.stringify(y.text)}`);
    } else if (x.kind === 'pn' && y.kind === 'pn') {
      if (JSON.stringify(x.groups) !== JSON.stringify(y.groups)) diffs.push(`${where}: ${JSON.stringify(x.groups)} against ${JSON.stringify(y.groups)}`);
    } else if (x.kind === 'item' && y.kind === 'item') {
      diffs.push(...compareNativeXml(x.dataset, y.dataset, {}, `${where}.`));
    }
  });
  return diffs;
}

const WORD: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

function littleEndian(bytes: Buffer | undefined, width: number): Buffer | undefined {
  if (!bytes || width === 1) return bytes;
  const out = Buffer.from(bytes);
  for (let o = 0; o + width <= out.length; o += width) out.subarray(o, o + width).reverse();
  return out;
}

function sameText(vr: string, x: string, y: string): boolean {
  if (x === y) return true;
  if (!NUMERIC.has(vr)) return false;
  const [p, q] = [Number(x), Number(y)];
  // FL is single precision: DCMTK prints it shorter than the double it widens to.
  return Number.isFinite(p) && Number.isFinite(q) && Math.abs(p - q) <= 1e-6 * Math.max(1, Math.abs(p), Math.abs(q));
}
