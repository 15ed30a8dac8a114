/**
 * The Part 10 writer's two outputs agree byte for byte: one buffer, or pieces where large values
 * (pixel data, encapsulated fragments) are the input's own bytes. Checked over the pydicom corpus,
 * the ct-fakephi series and the edge cases of padding and nesting.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, deidentify, dicom, keyedIdentifiers, profileOrThrow } from '../../anonymizer/index.js';
import { CT_FAKEPHI_FILES } from '../support/fakephi.js';

const CORPUS = fileURLToPath(new URL('../fixtures/pydicom-corpus/test_files/', import.meta.url));

const concat = (parts: readonly Uint8Array[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
const meta = (sop: string): dicom.FileMeta => ({
  mediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
  mediaStorageSOPInstanceUID: sop,
  transferSyntaxUID: '1.2.840.10008.1.2.1',
  implementationClassUID: IMPLEMENTATION_CLASS_UID,
  implementationVersionName: IMPLEMENTATION_VERSION_NAME,
});

describe('anonymizer: Part 10 written whole or in pieces', () => {
  it('gives the same bytes both ways for every readable file of the pydicom corpus', () => {
    const files = readdirSync(CORPUS).map((f) => join(CORPUS, f)).filter((f) => statSync(f).isFile());
    let compared = 0;
    let viewed = 0;
    for (const file of files) {
      let parsed: dicom.ParsedInstance;
      try {
        parsed = dicom.readPart10(readFileSync(file));
      } catch {
        continue;
      }
      const m = { ...meta('2.25.1'), transferSyntaxUID: dicom.outputTransferSyntax(parsed.transferSyntax) };
      const parts = dicom.writePart10Parts(m, parsed.dataset);
      expect(concat(parts).equals(Buffer.from(dicom.writePart10(m, parsed.dataset))), file).to.equal(true);
      compared++;
      if (parts.some((p) => p.length >= dicom.VIEW_VALUE_BYTES)) viewed++;
    }
    expect(compared).to.be.greaterThan(50);
    expect(viewed, 'files whose pixel data stayed a view').to.be.greaterThan(5);
  });

  it('keeps large values as views of the input, and pads an odd-length one after it', () => {
    const odd = new Uint8Array(dicom.VIEW_VALUE_BYTES + 1).fill(7);
    const fragments = encapsulated();
    const dataset: dicom.Dataset = [
      dicom.textElement(dicom.T.SOPInstanceUID, 'UI', '2.25.1'),
      { tag: 0x00091010, vr: 'OB', value: odd },
      { tag: 0x00081140, vr: 'SQ', items: [[{ tag: 0x00091011, vr: 'OB', value: odd }]] },
      { tag: 0x7fe00010, vr: 'OB', fragments },
    ];
    const parts = dicom.writePart10Parts(meta('2.25.1'), dataset);
    expect(concat(parts).equals(Buffer.from(dicom.writePart10(meta('2.25.1'), dataset)))).to.equal(true);
    expect(parts.filter((p) => p === odd)).to.have.length(1); // the top-level one; inside a sequence it is copied
    expect(parts.filter((p) => p === fragments)).to.have.length(1);
  });

  it('de-identification hands out the pixel data of its input uncopied, and `bytes` is the pieces joined', () => {
    const input = readFileSync(CT_FAKEPHI_FILES[0]);
    const result = deidentify({ bytes: input }, profileOrThrow(), keyedIdentifiers(new Uint8Array(32).fill(9)));
    if (!result.ok) throw new Error(result.error.message);
    const pixel = result.parts.find((p) => p.length >= dicom.VIEW_VALUE_BYTES);
    expect(pixel?.buffer).to.equal(input.buffer);
    expect(concat(result.parts).equals(Buffer.from(result.bytes))).to.equal(true);
    expect(Buffer.from(result.bytes).equals(Buffer.from(dicom.writePart10({ ...meta(result.sopInstanceUID), mediaStorageSOPClassUID: result.sopClassUID, transferSyntaxUID: result.transferSyntaxUID }, result.dataset)))).to.equal(true);
  });
});

/** Encapsulated pixel data as the reader keeps it: an empty offset table, one large fragment, the delimiter. */
function encapsulated(): Uint8Array {
  const size = dicom.VIEW_VALUE_BYTES;
  const out = new Uint8Array(8 + 8 + size + 8);
  const v = new DataView(out.buffer);
  const item = (at: number, tag: number, length: number) => {
    v.setUint16(at, 0xfffe, true);
    v.setUint16(at + 2, tag, true);
    v.setUint32(at + 4, length, true);
  };
  item(0, 0xe000, 0);
  item(8, 0xe000, size);
  out.fill(3, 16, 16 + size);
  item(16 + size, 0xe0dd, 0);
  return out;
}
