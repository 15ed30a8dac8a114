/**
 * A deterministic mutation fuzz of STOW-RS against a running gateway (the edge, storage and HTTP
 * server in process): a valid request of a few ct-fakephi instances, then a few hundred mutations
 * of it (the multipart framing, the part headers, the DICOM bytes, the request's Content-Type,
 * truncation, duplicated parts, bodies streamed in odd chunks or abandoned mid-body).
 *
 * Whatever arrives, every answer must be one of 200, 202, 400, 409, 413, 415, never a 500 nor a
 * hang; a Store Instances Response must reference exactly the instances that became new in the
 * store, a request-level error must leave the store as it was, and no answer may quote the
 * fixture's PHI, nor may what it stored or logged. Mutations known to be harmless (chunking, transport padding, a preamble...) must
 * still be 200. Seeded xorshift: LIMEN_FUZZ_SEED picks another run, LIMEN_FUZZ_CASE replays one
 * case of it alone (each case has its own fresh SOP Instance UIDs, so it replays on an empty store).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { scanResidualPhi } from '../../../anonymizer/index.js';
import { multipartRelated } from '../../support/curl.js';
import { CT_FAKEPHI_FILES, CT_FAKEPHI_VALUES } from '../../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { multipart } from '../http/harness.js';
import { parseExposition } from '../metrics/exposition-parser.js';
import { caseSeed, XorShift32 } from '../../support/fuzz.js';

const SEED = Number(process.env.LIMEN_FUZZ_SEED ?? 0x5eed57) >>> 0;
const CASES = Number(process.env.LIMEN_FUZZ_CASES ?? 300);
const ONLY = process.env.LIMEN_FUZZ_CASE === undefined ? undefined : Number(process.env.LIMEN_FUZZ_CASE);

/** Above one fixture instance (27 KiB), below two: a part grown or doubled is 413. */
const MAX_INSTANCE_BYTES = 40 * 1024;
const CONFIG = `
http:
  maxInstanceBytes: ${MAX_INSTANCE_BYTES}
  # One at a time: a request that never lets its slot go shows as the next one's 503.
  maxConcurrentStowRequests: 1
routes:
  default:
    stableSeconds: 3600
worker:
  enabled: false
`;
const ALLOWED = [200, 202, 400, 409, 413, 415];
const REQUEST_TIMEOUT_MS = 15_000;
const REFERENCED = '00081199';
const FAILED = '00081198';

type Json = Record<string, { vr: string; Value?: unknown[] }>;

// --- The fixture's bytes, and where its elements are ------------------------------------------

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

interface Element {
  tag: number;
  vr: string;
  /** Offset of the tag. */
  at: number;
  /** Offset of the length field. */
  lengthAt: number;
  lengthBytes: 2 | 4;
  valueAt: number;
  length: number;
}

/** The top-level elements of an explicit VR little endian Part 10 file, file meta included (the fixture's sequences have defined lengths). */
function elementsOf(bytes: Buffer): Element[] {
  const out: Element[] = [];
  let off = 132;
  while (off + 8 <= bytes.length) {
    const tag = ((bytes.readUInt16LE(off) << 16) | bytes.readUInt16LE(off + 2)) >>> 0;
    const vr = bytes.toString('latin1', off + 4, off + 6);
    const long = LONG_VRS.has(vr);
    if (long && off + 12 > bytes.length) break;
    const length = long ? bytes.readUInt32LE(off + 8) : bytes.readUInt16LE(off + 6);
    const valueAt = off + (long ? 12 : 8);
    // An edited file: stop where its elements stop making sense.
    if (valueAt + length > bytes.length) break;
    out.push({ tag, vr, at: off, lengthAt: off + (long ? 8 : 6), lengthBytes: long ? 4 : 2, valueAt, length });
    off = valueAt + length;
  }
  return out;
}

interface Instance {
  /** The fixture it is made from (0-based among FIXTURES). */
  fixture: number;
  bytes: Buffer;
  sopInstanceUID: string;
}

const FIXTURES = CT_FAKEPHI_FILES.slice(0, 3).map((file) => {
  const bytes = readFileSync(file);
  const elements = elementsOf(bytes);
  const sop = elements.find((e) => e.tag === 0x00020003)!;
  return { bytes, elements, sopInstanceUID: bytes.toString('latin1', sop.valueAt, sop.valueAt + sop.length).replace(/\0+$/, '') };
});

/** Fixture `i` with a SOP Instance UID of its own for `caseNo` (same length, so every offset stays). */
function freshInstance(i: number, caseNo: number): Instance {
  const f = FIXTURES[i];
  const uid = f.sopInstanceUID.slice(0, -9) + String(caseNo * 10 + i).padStart(9, '0');
  const bytes = Buffer.from(f.bytes.toString('latin1').split(f.sopInstanceUID).join(uid), 'latin1');
  return { fixture: i, bytes, sopInstanceUID: uid };
}

// --- A request and its mutations ------------------------------------------------------------

interface Part {
  bytes: Buffer;
  /** null: no Content-Type header in the part. */
  contentType: string | null;
}

type Delivery = { kind: 'buffer' } | { kind: 'stream'; chunks: number[] } | { kind: 'abort' | 'stream-error'; chunks: number[]; after: number };

interface Plan {
  caseNo: number;
  instances: Instance[];
  parts: Part[];
  boundary: string;
  /** The request's Content-Type; null sends none. */
  contentType: string | null;
  /** Edits of the framed body, in order. */
  bodyEdits: Array<(body: Buffer, layout: Layout) => Buffer>;
  delivery: Delivery;
  /** What was done, for the assertion messages. */
  notes: string[];
  /** False once a mutation may rightly make the request fail. */
  harmless: boolean;
}

/** Where the parts' DICOM bytes sit in the framed body; everything else is framing. */
interface Layout {
  dicom: Array<[number, number]>;
  framing: Array<[number, number]>;
}

function layoutOf(body: Buffer, parts: readonly Part[]): Layout {
  const dicom: Array<[number, number]> = [];
  let cursor = 0;
  for (const p of parts) {
    if (p.bytes.length === 0) continue;
    const at = body.indexOf(p.bytes, cursor);
    if (at < 0) continue;
    dicom.push([at, at + p.bytes.length]);
    cursor = at + p.bytes.length;
  }
  const framing: Array<[number, number]> = [];
  let from = 0;
  for (const [s, e] of dicom) {
    if (s > from) framing.push([from, s]);
    from = e;
  }
  if (from < body.length) framing.push([from, body.length]);
  return { dicom, framing };
}

/** Offsets in the framing where `needle` starts. */
function framingHits(body: Buffer, layout: Layout, needle: string): number[] {
  const hits: number[] = [];
  for (const [s, e] of layout.framing) {
    const region = body.subarray(s, e);
    for (let at = region.indexOf(needle, 0, 'latin1'); at >= 0; at = region.indexOf(needle, at + 1, 'latin1')) hits.push(s + at);
  }
  return hits;
}

const xorAt = (body: Buffer, at: number, mask: number) => {
  const out = Buffer.from(body);
  out[at] ^= mask;
  return out;
};

const BOUNDARIES = ['limen-test-boundary', 'x', '----WebKitFormBoundary7MA4YWxkTrZu0gW', "a'()+_,-./:=?Z", 'with space inside', 'B'.repeat(70), 'DICOMwebBoundary_20240101'];

function typeWith(boundary: string, extra = ''): string {
  const quoted = /[ '()+,/:=?]/.test(boundary) ? `"${boundary}"` : boundary;
  return `multipart/related; type="application/dicom"; boundary=${quoted}${extra}`;
}

type Mutation = (plan: Plan, r: XorShift32) => void;

const note = (plan: Plan, text: string, harmless = false) => {
  plan.notes.push(text);
  if (!harmless) plan.harmless = false;
};

/** A DICOM-level edit of one instance's bytes (before framing). */
function dicomEdit(describe: string, edit: (bytes: Buffer, elements: Element[], r: XorShift32) => { bytes: Buffer; what: string; harmless?: boolean } | undefined): Mutation {
  return (plan, r) => {
    const i = r.int(plan.parts.length);
    const part = plan.parts[i];
    if (part.bytes.length < 200) return;
    const edited = edit(part.bytes, elementsOf(part.bytes), r);
    if (!edited) return;
    const { bytes, what, harmless } = edited;
    part.bytes = bytes;
    note(plan, `${describe} of part ${i + 1}: ${what}`, harmless);
  };
}

const hex = (n: number, w = 4) => n.toString(16).toUpperCase().padStart(w, '0');
const tagName = (t: number) => `(${hex(t >>> 16)},${hex(t & 0xffff)})`;

/** An element other than the pixel data, in the file meta or the data set. */
const someElement = (elements: Element[], r: XorShift32, group?: 'meta' | 'dataset'): Element | undefined => {
  const candidates = elements.filter((e) => e.tag !== 0x7fe00010 && (group === undefined || (group === 'meta') === (e.tag >>> 16 === 0x0002)));
  return candidates.length > 0 ? r.pick(candidates) : undefined;
};
const pixelData = (elements: Element[]) => elements.find((e) => e.tag === 0x7fe00010 && e.length > 0);

const MUTATIONS: Array<{ name: string; weight: number; apply: Mutation }> = [
  // The framing: the delimiters, their CRLFs, the part headers, the body's own Content-Type.
  {
    name: 'flip-delimiter',
    weight: 6,
    apply: (plan, r) =>
      plan.bodyEdits.push((body, layout) => {
        const hits = framingHits(body, layout, `--${plan.boundary}`);
        if (hits.length === 0) return body;
        const at = r.pick(hits) + r.int(plan.boundary.length + 2);
        const mask = r.mask();
        note(plan, `xor 0x${hex(mask, 2)} at ${at} in a delimiter`);
        return xorAt(body, at, mask);
      }),
  },
  {
    name: 'flip-crlf',
    weight: 6,
    apply: (plan, r) =>
      plan.bodyEdits.push((body, layout) => {
        const hits = framingHits(body, layout, '\r\n');
        if (hits.length === 0) return body;
        const at = r.pick(hits) + r.int(2);
        const mode = r.int(3);
        if (mode === 0) {
          note(plan, `CRLF near ${at} cut to a bare LF`);
          const crlf = body[at] === 0x0d ? at : at - 1;
          return Buffer.concat([body.subarray(0, crlf), body.subarray(crlf + 1)]);
        }
        if (mode === 1) {
          note(plan, `CRLF byte at ${at} removed`);
          return Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
        }
        const mask = r.mask();
        note(plan, `xor 0x${hex(mask, 2)} at ${at} in a CRLF`);
        return xorAt(body, at, mask);
      }),
  },
  {
    name: 'flip-part-header',
    weight: 5,
    apply: (plan, r) =>
      plan.bodyEdits.push((body, layout) => {
        const hits = framingHits(body, layout, 'Content-Type:');
        if (hits.length === 0) return body;
        const start = r.pick(hits);
        const end = body.indexOf('\r\n', start, 'latin1');
        const at = start + r.int(Math.max(1, end - start));
        const mask = r.mask();
        note(plan, `xor 0x${hex(mask, 2)} at ${at} in a part header`);
        return xorAt(body, at, mask);
      }),
  },
  {
    name: 'padding-after-boundary',
    weight: 2,
    apply: (plan, r) =>
      plan.bodyEdits.push((body, layout) => {
        const hits = framingHits(body, layout, `--${plan.boundary}\r\n`);
        if (hits.length === 0) return body;
        const at = r.pick(hits) + plan.boundary.length + 2;
        const pad = Buffer.from(' \t'.repeat(r.range(1, 8)), 'latin1');
        note(plan, `${pad.length} bytes of transport padding after the boundary at ${at}`, true);
        return Buffer.concat([body.subarray(0, at), pad, body.subarray(at)]);
      }),
  },
  {
    name: 'preamble-and-epilogue',
    weight: 2,
    apply: (plan, r) =>
      plan.bodyEdits.push((body) => {
        const pre = Buffer.from('This is a preamble, to be ignored.\r\n'.repeat(r.range(0, 3)), 'latin1');
        const post = Buffer.from(`epilogue ${'-'.repeat(r.range(0, 40))}--${plan.boundary}\r\n`, 'latin1');
        note(plan, `preamble of ${pre.length} bytes, epilogue of ${post.length}`, true);
        // Before a first delimiter that opens the body, a preamble needs the CRLF a delimiter starts with.
        const sep = pre.length > 0 && body[0] === 0x2d ? Buffer.from('\r\n') : Buffer.alloc(0);
        return Buffer.concat([pre, sep, body, post]);
      }),
  },
  {
    name: 'part-content-type',
    weight: 6,
    apply: (plan, r) => {
      const i = r.int(plan.parts.length);
      const [type, harmless] = r.pick<[string | null, boolean]>([
        ['application/dicom; transfer-syntax=1.2.840.10008.1.2.1', true],
        ['Application/DICOM;transfer-syntax="1.2.840.10008.1.2.1"', true],
        ['application/dicom; transfer-syntax=1.2.840.10008.1.2.4.50', false],
        [null, true],
        ['application/octet-stream', false],
        ['text/plain; charset=utf-8', false],
        ['application/dicom+json', false],
        ['application', false],
        ['', false],
        ['application/dicom; transfer-syntax', false],
      ]);
      plan.parts[i].contentType = type;
      note(plan, `part ${i + 1} Content-Type ${JSON.stringify(type)}`, harmless);
    },
  },
  {
    name: 'request-content-type',
    weight: 6,
    apply: (plan, r) => {
      const b = plan.boundary;
      const [type, harmless] = r.pick<[string | null, boolean]>([
        [null, false],
        ['application/dicom', false],
        [`multipart/form-data; boundary=${b}`, false],
        [`multipart/related; type="application/dicom+xml"; boundary="${b}"`, false],
        ['multipart/related; type="application/dicom"', false],
        ['multipart/related; type="application/dicom"; boundary=', false],
        [`multipart/related; type="application/dicom"; boundary="${b}-other"`, false],
        ['multipart/related; type="application/dicom"; boundary="not valid!"', false],
        [`multipart/related; type="application/dicom"; boundary="${b}`, false],
        [`MULTIPART/RELATED; TYPE="APPLICATION/DICOM"; BOUNDARY="${b}"`, true],
        [`multipart/related; boundary="${b}"`, true],
        [`multipart/related;type=application/dicom;boundary="${b}";start="<x@y>"`, true],
        [`multipart/related; boundary="${b}"; type="application/dicom"; boundary=other`, true],
        [`text/plain; boundary="${b}"`, false],
        ['garbage', false],
      ]);
      plan.contentType = type;
      note(plan, `request Content-Type ${JSON.stringify(type)}`, harmless);
    },
  },
  // The parts: repeated, doubled, emptied, not DICOM.
  {
    name: 'duplicate-part',
    weight: 4,
    apply: (plan, r) => {
      const i = r.int(plan.parts.length);
      const at = r.int(plan.parts.length + 1);
      plan.parts.splice(at, 0, { ...plan.parts[i] });
      // Stored once, referenced twice: the store counts distinct instances.
      note(plan, `part ${i + 1} sent again as part ${at + 1}`, true);
    },
  },
  {
    name: 'oversized-part',
    weight: 3,
    apply: (plan, r) => {
      const i = r.int(plan.parts.length);
      const part = plan.parts[i];
      const mode = r.int(2);
      // Two instances in one (the second one of this request's), or trailing bytes; past the limit either way.
      const grown = mode === 0 ? Buffer.concat([part.bytes, plan.instances[0].bytes]) : part.bytes;
      part.bytes = Buffer.concat([grown, Buffer.alloc(Math.max(0, MAX_INSTANCE_BYTES - grown.length) + r.range(1, 4096), 0x5a)]);
      note(plan, `part ${i + 1} grown to ${part.bytes.length} bytes (${mode === 0 ? 'two instances in one' : 'trailing bytes'})`);
    },
  },
  {
    name: 'odd-part',
    weight: 3,
    apply: (plan, r) => {
      const at = r.int(plan.parts.length + 1);
      const bytes = r.pick([Buffer.alloc(0), Buffer.from('not dicom at all'), Buffer.alloc(132), Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')])]);
      plan.parts.splice(at, 0, { bytes, contentType: r.chance(0.8) ? 'application/dicom' : null });
      note(plan, `a ${bytes.length}-byte non-instance part at ${at + 1}`);
    },
  },
  // The DICOM bytes.
  {
    name: 'flip-preamble',
    weight: 2,
    apply: dicomEdit('preamble', (bytes, _e, r) => {
      const at = r.int(128);
      const mask = r.mask();
      return { bytes: xorAt(bytes, at, mask), what: `xor 0x${hex(mask, 2)} at ${at}`, harmless: true };
    }),
  },
  {
    name: 'flip-dicm',
    weight: 2,
    apply: dicomEdit('magic', (bytes, _e, r) => {
      const at = 128 + r.int(4);
      return { bytes: xorAt(bytes, at, r.mask()), what: `"DICM" byte ${at - 128}` };
    }),
  },
  {
    name: 'meta-group-length',
    weight: 3,
    apply: dicomEdit('file meta group length', (bytes, elements, r) => {
      const gl = elements.find((e) => e.tag === 0x00020000 && e.length === 4);
      if (!gl) return undefined;
      const out = Buffer.from(bytes);
      const value = r.pick([0, 1, gl.length, bytes.readUInt32LE(gl.valueAt) + r.range(-40, 40), 0x7fffffff, 0xffffffff, r.next()]);
      out.writeUInt32LE(value >>> 0, gl.valueAt);
      return { bytes: out, what: `set to ${value >>> 0}` };
    }),
  },
  {
    name: 'flip-tag',
    weight: 4,
    apply: dicomEdit('element tag', (bytes, elements, r) => {
      const e = someElement(elements, r, r.chance(0.3) ? 'meta' : 'dataset');
      if (!e) return undefined;
      const at = e.at + r.int(4);
      return { bytes: xorAt(bytes, at, r.mask()), what: `of ${tagName(e.tag)} at ${at}` };
    }),
  },
  {
    name: 'flip-vr',
    weight: 4,
    apply: dicomEdit('element VR', (bytes, elements, r) => {
      const e = someElement(elements, r, r.chance(0.3) ? 'meta' : 'dataset');
      if (!e) return undefined;
      const out = Buffer.from(bytes);
      const vr = r.pick(['SQ', 'OB', 'UN', 'UT', 'AE', 'US', 'ZZ', '\0\0', r.pick(['LO', 'PN', 'DA'])]);
      out.write(vr, e.at + 4, 'latin1');
      return { bytes: out, what: `of ${tagName(e.tag)} ${e.vr} -> ${JSON.stringify(vr)}` };
    }),
  },
  {
    name: 'length',
    weight: 5,
    apply: dicomEdit('element length', (bytes, elements, r) => {
      const e = r.chance(0.2) ? pixelData(elements) : someElement(elements, r, r.chance(0.3) ? 'meta' : 'dataset');
      if (!e) return undefined;
      const out = Buffer.from(bytes);
      const max = e.lengthBytes === 2 ? 0xffff : 0xffffffff;
      const value = r.pick([0, 1, e.length + 1, Math.max(0, e.length - 1), e.length + 2, max, max - 1, r.next() % (max + 1), bytes.length]);
      if (e.lengthBytes === 2) out.writeUInt16LE(value & 0xffff, e.lengthAt);
      else out.writeUInt32LE(value >>> 0, e.lengthAt);
      return { bytes: out, what: `of ${tagName(e.tag)} ${e.length} -> ${value}` };
    }),
  },
  {
    name: 'flip-value',
    weight: 3,
    apply: dicomEdit('element value', (bytes, elements, r) => {
      const e = someElement(
        elements.filter((x) => x.length > 0),
        r,
        r.chance(0.3) ? 'meta' : 'dataset',
      );
      if (!e) return undefined;
      const at = e.valueAt + r.int(e.length);
      return { bytes: xorAt(bytes, at, r.mask()), what: `of ${tagName(e.tag)} at ${at}` };
    }),
  },
  {
    name: 'flip-pixels',
    weight: 3,
    apply: dicomEdit('pixel data', (bytes, elements, r) => {
      const px = pixelData(elements);
      if (!px) return undefined;
      let out = bytes;
      const n = r.range(1, 64);
      for (let k = 0; k < n; k++) out = xorAt(out, px.valueAt + r.int(px.length), r.mask());
      return { bytes: out, what: `${n} bytes flipped`, harmless: true };
    }),
  },
  {
    name: 'truncate-instance',
    weight: 3,
    apply: dicomEdit('instance', (bytes, _e, r) => {
      const len = r.chance(0.3) ? r.int(300) : r.int(bytes.length);
      return { bytes: bytes.subarray(0, len), what: `cut to ${len} bytes` };
    }),
  },
  // The body as a whole.
  {
    name: 'truncate-body',
    weight: 5,
    apply: (plan, r) =>
      plan.bodyEdits.push((body) => {
        const len = r.int(body.length);
        note(plan, `body cut to ${len} of ${body.length} bytes`);
        return body.subarray(0, len);
      }),
  },
];

const TOTAL_WEIGHT = MUTATIONS.reduce((s, m) => s + m.weight, 0);
function pickMutation(r: XorShift32) {
  let w = r.int(TOTAL_WEIGHT);
  for (const m of MUTATIONS) {
    if (w < m.weight) return m;
    w -= m.weight;
  }
  return MUTATIONS[0];
}

/** Chunk sizes covering `length`: many tiny ones near the start, then a mix. */
function chunkSizes(length: number, r: XorShift32): number[] {
  const sizes: number[] = [];
  let total = 0;
  const tinyUntil = r.chance(0.5) ? r.range(0, 600) : 0;
  while (total < length) {
    const n = total < tinyUntil ? r.range(1, 3) : r.pick([1, 2, 3, 7, 13, 64, 127, 500, 1400, 4095, 8192, 16384, 65536]);
    sizes.push(n);
    total += n;
  }
  return sizes;
}

function planCase(caseNo: number): Plan {
  const r = new XorShift32(caseSeed(SEED, caseNo));
  const count = r.range(1, FIXTURES.length);
  const instances = Array.from({ length: count }, (_, i) => freshInstance(i, caseNo));
  const boundary = r.chance(0.5) ? BOUNDARIES[0] : r.pick(BOUNDARIES);
  const plan: Plan = {
    caseNo,
    instances,
    parts: instances.map((i) => ({ bytes: i.bytes, contentType: 'application/dicom' })),
    boundary,
    contentType: typeWith(boundary),
    bodyEdits: [],
    delivery: { kind: 'buffer' },
    notes: [`${count} instance(s), boundary ${JSON.stringify(boundary)}`],
    harmless: true,
  };
  // Now and then a case with no mutation but the delivery: the harmless baseline.
  const mutations = r.chance(0.1) ? 0 : r.pick([1, 1, 1, 2, 2, 3]);
  for (let k = 0; k < mutations; k++) pickMutation(r).apply(plan, r);
  return plan;
}

function decideDelivery(plan: Plan, length: number, r: XorShift32): void {
  const roll = r.int(100);
  if (roll < 45) return;
  const chunks = chunkSizes(length, r);
  if (roll < 85 || length < 2) {
    plan.delivery = { kind: 'stream', chunks };
    note(plan, `streamed in ${chunks.length} chunks`, true);
    return;
  }
  const after = r.range(1, length - 1);
  const kind = r.chance(0.6) ? 'abort' : 'stream-error';
  plan.delivery = { kind, chunks, after };
  note(plan, `${kind === 'abort' ? 'request aborted' : 'body stream failed'} after ${after} of ${length} bytes`);
}

function buildBody(plan: Plan, r: XorShift32): Buffer {
  // Both framings clients use: the first delimiter opening the body, or after a CRLF.
  let body = r.chance(0.5) ? multipart(plan.parts, plan.boundary) : framedAtStart(plan);
  for (const edit of plan.bodyEdits) body = edit(body, layoutOf(body, plan.parts));
  decideDelivery(plan, body.length, r);
  return body;
}

/** multipartRelated's framing (the first delimiter opens the body), with each part's own Content-Type. */
function framedAtStart(plan: Plan): Buffer {
  if (plan.parts.every((p) => p.contentType === 'application/dicom')) return multipartRelated(plan.parts.map((p) => p.bytes), plan.boundary).body;
  const body = multipart(plan.parts, plan.boundary);
  return body.subarray(2);
}

// --- Sending and checking -------------------------------------------------------------------

interface Outcome {
  status: number;
  contentType: string;
  text: string;
}

async function send(base: string, token: string, plan: Plan, body: Buffer): Promise<Outcome | { aborted: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/dicom+json' };
  if (plan.contentType !== null) headers['content-type'] = plan.contentType;
  const client = new AbortController();
  const timer = setTimeout(() => client.abort(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
  timer.unref?.();
  const d = plan.delivery;
  let payload: BodyInit;
  if (d.kind === 'buffer') payload = new Uint8Array(body);
  else {
    let off = 0;
    let k = 0;
    payload = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          if (d.kind !== 'stream' && off >= d.after) {
            // Long enough for what was sent to reach the gateway: the sender leaves mid-body, not before it.
            await new Promise((res) => setTimeout(res, 20));
            if (d.kind === 'abort') client.abort(new Error('sender aborted'));
            else c.error(new Error('sender body failed'));
            return;
          }
          if (off >= body.length) {
            c.close();
            return;
          }
          let n = d.chunks[k++] ?? body.length - off;
          if (d.kind !== 'stream') n = Math.min(n, d.after - off);
          c.enqueue(new Uint8Array(body.subarray(off, off + n)));
          off += n;
          // Let the server see the chunks as separate reads now and then.
          if (k % 7 === 0) await new Promise((res) => setImmediate(res));
        },
      },
      { highWaterMark: 0 },
    );
  }
  try {
    const res = await fetch(`${base}/dicomweb/studies`, { method: 'POST', body: payload, headers, signal: client.signal, duplex: 'half' } as RequestInit);
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text };
  } catch (err) {
    const reason = client.signal.aborted ? String((client.signal.reason as Error)?.message) : '';
    if (reason.startsWith('no answer')) throw new Error(`request hung: ${reason}`);
    return { aborted: String((err as Error).cause ?? err) };
  } finally {
    clearTimeout(timer);
  }
}

/** The pseudonymous SOP Instance UIDs in the store. */
async function storedInstances(gw: TestGateway): Promise<Set<string>> {
  const { studies } = await gw.storage.listStudies({ limit: 10_000 });
  const out = new Set<string>();
  for (const s of studies) for (const i of await gw.storage.listInstances(s.studyInstanceUID)) out.add(i.sopInstanceUID);
  return out;
}

async function metrics(gw: TestGateway) {
  return parseExposition(await (await fetch(`${gw.base}/metrics`)).text());
}

/** STOW-RS requests the app has answered (whether or not the sender was still there to read it), by status. */
async function stowAnswers(gw: TestGateway): Promise<Map<string, number>> {
  const fam = (await metrics(gw)).get('limen_http_requests_total');
  const out = new Map<string, number>();
  for (const s of fam?.samples ?? []) {
    if (s.labels.method === 'POST' && s.labels.route === '/dicomweb/studies') out.set(s.labels.status, (out.get(s.labels.status) ?? 0) + s.value);
  }
  return out;
}

const phiIn = (text: string | Uint8Array) => scanResidualPhi([{ name: 'scanned', bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : text }], CT_FAKEPHI_VALUES).map((h) => h.needle);

/** What the case left behind: the new instances as stored (decrypted) and the new log lines, none of which may hold PHI. */
async function expectNoPhiLeft(gw: TestGateway, id: string, before: Set<string>, now: Set<string>, logsBefore: number): Promise<void> {
  for (const uid of now) {
    if (before.has(uid)) continue;
    const blob = await gw.storage.getInstanceBlob(uid);
    expect(phiIn(blob!.bytes), `${id}: stored instance ${uid} holds PHI`).to.deep.equal([]);
  }
  expect(phiIn(gw.logs.slice(logsBefore).join('\n')), `${id}: the log holds PHI`).to.deep.equal([]);
}

const referenced = (json: Json) => ((json[REFERENCED]?.Value ?? []) as Json[]).map((i) => i['00081155']?.Value?.[0] as string);

describe('gateway/dicomweb STOW-RS mutation fuzz (running gateway)', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let token: string;
  const troubles: string[] = [];
  const onUncaught = (err: unknown) => troubles.push(`uncaughtException: ${String((err as Error)?.stack ?? err)}`);
  const onUnhandled = (err: unknown) => troubles.push(`unhandledRejection: ${String((err as Error)?.stack ?? err)}`);

  before(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUnhandled);
    gw = await startTestGateway(CONFIG);
    token = (await gw.storage.createToken({ role: 'modality', ttlSeconds: 3600 })).token;
  });

  after(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
    await gw?.dispose();
  });

  /** A request that is admitted, then refused for holding no part: 400, nothing stored. A kept slot makes it wait, then 503. */
  async function probe(id: string): Promise<void> {
    const res = await fetch(`${gw.base}/dicomweb/studies`, {
      method: 'POST',
      body: '\r\n--probe--\r\n',
      headers: { 'content-type': typeWith('probe'), authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(40_000),
    });
    expect(res.status, `${id}: the probe after it: ${await res.text()}`).to.equal(400);
  }

  /** A valid request of fresh instances: 200, each referenced, each new in the store. */
  async function validStow(caseNo: number): Promise<void> {
    const instances = FIXTURES.map((_, i) => freshInstance(i, caseNo));
    const { body, contentType } = multipartRelated(instances.map((i) => i.bytes));
    const before = await storedInstances(gw);
    const res = await fetch(`${gw.base}/dicomweb/studies`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': contentType, authorization: `Bearer ${token}`, accept: 'application/dicom+json' } });
    const text = await res.text();
    expect(res.status, text).to.equal(200);
    const json = JSON.parse(text) as Json;
    expect(referenced(json)).to.deep.equal(instances.map((i) => i.sopInstanceUID));
    expect(json).not.to.have.property(FAILED);
    const now = await storedInstances(gw);
    expect(now.size - before.size).to.equal(instances.length);
  }

  it('a valid request of the fixture is 200, every instance referenced and new in the store (the harness can fail)', async () => {
    await validStow(0);
  });

  it(`${ONLY === undefined ? CASES : 1} mutated requests: only 200/202/400/409/413/415, answers that match the store, no PHI answered, stored or logged, no hang`, async () => {
    const started = Date.now();
    const tally = new Map<string, number>();
    const cases = ONLY === undefined ? Array.from({ length: CASES }, (_, k) => k + 1) : [ONLY];
    for (const caseNo of cases) {
      const plan = planCase(caseNo);
      const body = buildBody(plan, new XorShift32(caseSeed(SEED, caseNo) ^ 0xb0d1e5));
      const id = `seed=0x${SEED.toString(16)} case=${caseNo} (LIMEN_FUZZ_SEED=${SEED} LIMEN_FUZZ_CASE=${caseNo}): ${plan.notes.join('; ')}`;
      const before = await storedInstances(gw);
      const logsBefore = gw.logs.length;
      const answeredBefore = await stowAnswers(gw);
      const outcome = await send(gw.base, token, plan, body);
      if ('aborted' in outcome) {
        // Nobody reads the answer; the gateway still finishes the request, and lets its slot go: with
        // one STOW-RS request admitted at a time, a probe is read only once the abandoned one is done.
        await probe(id);
        const answered = await stowAnswers(gw);
        const statuses = [...answered].filter(([status, n]) => n > (answeredBefore.get(status) ?? 0) && status !== '400').map(([status]) => Number(status));
        expect(statuses.filter((status) => !ALLOWED.includes(status)), `${id}: what the gateway answered to the sender that left`).to.deep.equal([]);
        const now = await storedInstances(gw);
        for (const uid of before) expect(now.has(uid), `${id}: an instance vanished`).to.equal(true);
        expect(now.size - before.size, `${id}: more new instances than were sent`).to.be.at.most(new Set(plan.parts.map((p) => p.bytes)).size);
        await expectNoPhiLeft(gw, id, before, now, logsBefore);
        tally.set('aborted', (tally.get('aborted') ?? 0) + 1);
        continue;
      }
      const { status, text, contentType } = outcome;
      tally.set(String(status), (tally.get(String(status)) ?? 0) + 1);
      expect(ALLOWED, `${id}: status ${status} ${text.slice(0, 300)}`).to.include(status);
      if (plan.harmless) expect(status, `${id}: a harmless mutation must store everything: ${text.slice(0, 300)}`).to.equal(200);
      expect(phiIn(text), `${id}: the answer quotes PHI: ${text.slice(0, 500)}`).to.deep.equal([]);
      const now = await storedInstances(gw);
      for (const uid of before) expect(now.has(uid), `${id}: an instance vanished`).to.equal(true);
      await expectNoPhiLeft(gw, id, before, now, logsBefore);
      const added = now.size - before.size;
      if (status === 200 || status === 202 || status === 409) {
        expect(contentType, id).to.equal('application/dicom+json');
        const json = JSON.parse(text) as Json;
        const refs = referenced(json);
        const failed = (json[FAILED]?.Value ?? []) as Json[];
        // Duplicated parts are stored once and referenced each time: the store counts distinct instances.
        expect(added, `${id}: ${refs.length} referenced (${new Set(refs).size} distinct), ${added} new in the store: ${text.slice(0, 500)}`).to.equal(new Set(refs).size);
        const sent = new Set(plan.instances.map((i) => i.sopInstanceUID));
        for (const uid of refs) expect(sent.has(uid), `${id}: references ${uid}, which was not sent`).to.equal(true);
        if (status === 200) expect(failed, `${id}: 200 with failures`).to.have.length(0);
        if (status === 200 || status === 202) expect(refs.length, id).to.be.greaterThan(0);
        if (status === 202 || status === 409) expect(failed.length, `${id}: ${status} without a FailedSOPSequence`).to.be.greaterThan(0);
        if (status === 409) expect(refs, id).to.have.length(0);
        for (const item of failed) {
          expect(item['00081197']?.vr, `${id}: a failed item without FailureReason`).to.equal('US');
          expect(item['00081197']?.Value?.[0], `${id}: FailureReason`).to.be.a('number');
          expect(String(item['00000902']?.Value?.[0] ?? ''), `${id}: a failed item without its reason in words`).not.to.equal('');
        }
      } else {
        expect(added, `${id}: ${status} but ${added} new instances in the store`).to.equal(0);
        const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        expect(err?.code, `${id}: ${status} without an error code: ${text}`).to.be.a('string');
        expect(err?.message, `${id}: ${status} without a reason: ${text}`).to.be.a('string').and.not.equal('');
      }
    }
    const answers = await stowAnswers(gw);
    console.log(
      `      stow fuzz seed=0x${SEED.toString(16)}: ${cases.length} cases in ${Date.now() - started} ms; client saw ${JSON.stringify(Object.fromEntries([...tally].sort()))}; server answered ${JSON.stringify(Object.fromEntries([...answers].sort()))}`,
    );
    // Abandoned requests included: the app answered each with a status a sender may get (never 500).
    expect([...answers.keys()].filter((status) => !ALLOWED.includes(Number(status))), 'statuses the app answered with').to.deep.equal([]);
  });

  it('afterwards: no uncaught errors, no memory held, /healthz answers, and a valid request is 200', async () => {
    await validStow(1_000_000);
    expect((await fetch(`${gw.base}/healthz`)).status).to.equal(200);
    const held = (await metrics(gw)).get('limen_receive_memory_bytes')?.samples[0]?.value;
    expect(held, 'received instances still held in memory').to.equal(0);
    expect(gw.logs.filter((l) => l.includes('"http.request.failed"')), 'requests that failed with an unexpected error').to.deep.equal([]);
    expect(troubles).to.deep.equal([]);
  });
});
