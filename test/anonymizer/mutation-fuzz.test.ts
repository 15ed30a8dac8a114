/**
 * A seeded mutation fuzz of the anonymizer on one ct-fakephi data set, as DIMSE delivers it, in
 * Explicit and Implicit VR Little Endian: a tag rewritten, a length grown over the elements after
 * it, header bytes flipped. Whatever comes of it, `deidentify` never throws and neither its output
 * nor its reason holds the fixture's PHI.
 *
 * One kind of leak is allowed, and counted: a tag turned into another attribute the dictionary
 * knows, outside Table E.1-1, holding a value that is a valid one of that attribute (a name as an
 * LO, a date as a CS of digits) cannot be told from that attribute's own, by this or any
 * de-identifier. Under Explicit VR the value's own VR must also be that attribute's; under Implicit
 * VR it is read as one. Anything else that keeps PHI fails the test.
 * ANON_FUZZ_SEED and ANON_FUZZ_CASES pick another run.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deidentify, dicom, keyedIdentifiers, profileOrThrow, scanResidualPhi } from '../../anonymizer/index.js';
import { CT_FAKEPHI_FILES, CT_FAKEPHI_VALUES } from '../support/fakephi.js';
import { XorShift32 } from '../support/fuzz.js';
import { requirePeers, runPeer } from '../support/peers.js';

const SEED = Number(process.env.ANON_FUZZ_SEED ?? 0xa11ce) >>> 0;
const CASES = Number(process.env.ANON_FUZZ_CASES ?? 3000);
const EXPLICIT = '1.2.840.10008.1.2.1';
const IMPLICIT = '1.2.840.10008.1.2';
const LONG_LENGTH = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const SEQUENCE_DELIMITATION = [0xfffe, 0xe0dd];

const profile = profileOrThrow();
const ids = keyedIdentifiers(new Uint8Array(32).fill(5));

/** A top-level element of the data set: where it starts, where its length field is, where it ends. */
interface Span {
  at: number;
  tag: number;
  lengthAt: number;
  lengthSize: 2 | 4;
  end: number;
}

/** The bare data set after a Part 10 file's meta group. */
function dataSetOf(part10: Buffer): Buffer {
  return part10.subarray(144 + part10.readUInt32LE(140));
}

/** The top-level elements, walked independently of the reader under test. */
function spans(ds: Buffer, explicit: boolean): Span[] {
  const out: Span[] = [];
  for (let at = 0; at + 8 <= ds.length; ) {
    const tag = ((ds.readUInt16LE(at) << 16) | ds.readUInt16LE(at + 2)) >>> 0;
    const long = !explicit || LONG_LENGTH.has(ds.toString('latin1', at + 4, at + 6));
    const lengthAt = explicit ? (long ? at + 8 : at + 6) : at + 4;
    const length = long ? ds.readUInt32LE(lengthAt) : ds.readUInt16LE(lengthAt);
    let end = lengthAt + (long ? 4 : 2) + length;
    if (length === 0xffffffff) {
      // Items inside have defined lengths in these files: the first sequence delimiter is its own.
      end = lengthAt + 4;
      while (!(ds.readUInt16LE(end) === SEQUENCE_DELIMITATION[0] && ds.readUInt16LE(end + 2) === SEQUENCE_DELIMITATION[1])) end += 2;
      end += 8;
    }
    out.push({ at, tag, lengthAt, lengthSize: long ? 4 : 2, end });
    at = end;
  }
  return out;
}

interface Mutation {
  bytes: Buffer;
  what: string;
  original: number;
  /** The tag the mutated element ends up with, when its header was changed. */
  relabelled?: number;
}

function mutate(ds: Buffer, elements: Span[], rnd: () => number): Mutation | undefined {
  const bytes = Buffer.from(ds);
  const i = rnd() % (elements.length - 1);
  const el = elements[i];
  const tagAfter = () => ((bytes.readUInt16LE(el.at) << 16) | bytes.readUInt16LE(el.at + 2)) >>> 0;
  switch (rnd() % 3) {
    case 0: {
      if (rnd() % 2) bytes.writeUInt16LE(rnd() & 0xffff, el.at + 2);
      else bytes.writeUInt16LE(rnd() & 0xfffe, el.at);
      return { bytes, what: `tag of ${dicom.formatTag(el.tag)} to ${dicom.formatTag(tagAfter())}`, original: el.tag, relabelled: tagAfter() };
    }
    case 1: {
      const j = i + 1 + (rnd() % Math.min(4, elements.length - i - 1));
      const length = elements[j].end - (el.lengthAt + el.lengthSize);
      if (el.lengthSize === 2 && length > 0xffff) return undefined;
      if (el.lengthSize === 2) bytes.writeUInt16LE(length, el.lengthAt);
      else bytes.writeUInt32LE(length, el.lengthAt);
      return { bytes, what: `length of ${dicom.formatTag(el.tag)} over ${j - i} element(s)`, original: el.tag };
    }
    default: {
      for (let n = 0; n <= rnd() % 3; n++) bytes[el.at + (rnd() % 8)] ^= 1 + (rnd() % 255);
      return { bytes, what: `header bytes of ${dicom.formatTag(el.tag)} (tag now ${dicom.formatTag(tagAfter())})`, original: el.tag, relabelled: tagAfter() };
    }
  }
}

const phiIn = (bytes: Uint8Array) => [...new Set(scanResidualPhi([{ name: 'out', bytes }], CT_FAKEPHI_VALUES).map((h) => h.needle))];

function fuzz(ds: Buffer, transferSyntaxUID: string): { outcomes: Record<string, number>; tolerated: string[] } {
  const explicit = transferSyntaxUID === EXPLICIT;
  const elements = spans(ds, explicit);
  const random = new XorShift32(SEED ^ (explicit ? 0 : 0x5bd1e995));
  const rnd = () => random.next();
  const outcomes: Record<string, number> = {};
  const tolerated: string[] = [];
  for (let n = 0; n < CASES; n++) {
    const m = mutate(ds, elements, rnd);
    if (!m) continue;
    const id = `seed 0x${SEED.toString(16)} ${explicit ? 'explicit' : 'implicit'} case ${n}: ${m.what}`;
    const r = deidentify({ bytes: m.bytes, format: 'dataset', transferSyntaxUID }, profile, ids);
    const outcome = r.ok ? 'stored' : r.error.code;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (!r.ok) {
      expect(phiIn(Buffer.from(r.error.message)), `${id}: the reason quotes PHI: ${r.error.message}`).to.deep.equal([]);
      continue;
    }
    const left = phiIn(r.bytes);
    if (left.length === 0) continue;
    // A tag turned into another attribute's, kept, with a value that is a valid one of that attribute: no check can see it.
    const kept = m.relabelled === undefined || m.relabelled === m.original ? undefined : dicom.find(r.dataset, m.relabelled);
    const undetectable = kept?.value !== null && kept?.value !== undefined && dicom.lookup(kept.tag) !== undefined && dicom.fitsRepertoire(kept.vr, kept.value) && dicom.fitsMultiplicity(kept.tag, kept.vr, kept.value.length);
    expect(undetectable, `${id}: the output holds ${left.join(', ')}`).to.equal(true);
    tolerated.push(`${m.what}: ${left.join(', ')}`);
  }
  return { outcomes, tolerated };
}

describe('anonymizer: mutation fuzz of a data set (Explicit and Implicit VR)', function () {
  this.timeout(120_000);
  const source = CT_FAKEPHI_FILES[0];

  it(`${CASES} mutations in Explicit VR: never a throw, PHI only as a valid value of another attribute a tag turned into`, () => {
    const ds = dataSetOf(readFileSync(source));
    expect(phiIn(ds).length, 'the data set holds the fixture PHI (the fuzz can fail)').to.be.greaterThan(10);
    const { outcomes, tolerated } = fuzz(ds, EXPLICIT);
    console.log(`      explicit: ${JSON.stringify(outcomes)}; ${tolerated.length} undetectable relabellings${tolerated.length ? `: ${tolerated.join('; ')}` : ''}`);
    expect(tolerated.length, 'relabellings that kept PHI: rare, or something else leaks').to.be.at.most(CASES / 500);
    expect(outcomes.stored, 'some mutations are still stored').to.be.greaterThan(CASES / 4);
    expect(outcomes['damaged-value'], 'some lengths ran a kept value over others').to.be.greaterThan(0);
  });

  it(`${CASES} mutations in Implicit VR: PHI only as a valid value of another attribute a tag turned into`, function () {
    requirePeers(this, 'dcmtk');
    const dir = mkdtempSync(join(tmpdir(), 'limen-anon-fuzz-'));
    try {
      const implicitFile = join(dir, 'implicit.dcm');
      const r = runPeer('dcmconv', ['+ti', source, implicitFile]);
      expect(r.status, r.stderr).to.equal(0);
      const ds = dataSetOf(readFileSync(implicitFile));
      const { outcomes, tolerated } = fuzz(ds, IMPLICIT);
      console.log(`      implicit: ${JSON.stringify(outcomes)}; ${tolerated.length} undetectable relabellings${tolerated.length ? `: ${tolerated.join('; ')}` : ''}`);
      expect(tolerated.length, 'relabellings that kept PHI: rare, or something else leaks').to.be.at.most(CASES / 500);
      expect(outcomes['damaged-value']).to.be.greaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
