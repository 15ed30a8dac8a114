/**
 * Explicit → Implicit VR Little Endian for a PACS that accepts only the default transfer syntax:
 * real SEGs (one with private elements) read back by pydicom and DCMTK with the same elements and
 * values; private sequences stay parseable; odd values are padded; compressed pixel data is refused.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dicom } from '../../../anonymizer/index.js';
import { ImplicitVRConversionError, toImplicitVRLittleEndian } from '../../../gateway/dimse/implicit-vr.js';
import { TransferSyntax } from '../../../gateway/dimse/index.js';
import { requirePeers, runPeer } from '../../support/peers.js';
import { readPart10 } from './helpers.js';
import { comparePart10WithPydicom, writeBareDataSet } from './pydicom-compare.js';

const SEGS = [
  'test/fixtures/seg-references/dcmqi/segmentations/liver.dcm',
  // Private elements (0013,xxxx) of the CTP anonymizer.
  'test/fixtures/seg-references/dcmqi/sr-example/seg.dcm',
  'test/fixtures/seg-references/highdicom/seg_image_sm_control_labelmap.dcm',
];

/** Explicit VR Little Endian element bytes. */
function explicit(group: number, element: number, vr: string, value: Uint8Array | number[]): Buffer {
  const v = Buffer.from(value);
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'UC', 'UR', 'OF', 'OD', 'OL', 'OV', 'SV', 'UV'].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(element, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(v.length, 8);
  else head.writeUInt16LE(v.length, 6);
  return Buffer.concat([head, v]);
}

function item(content: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0xfffe, 0);
  head.writeUInt16LE(0xe000, 2);
  head.writeUInt32LE(content.length, 4);
  return Buffer.concat([head, content]);
}

const text = (s: string) => Buffer.from(s, 'latin1');

describe('gateway/dimse toImplicitVRLittleEndian', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'limen-implicit-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('real SEGs, read back by independent readers', function () {
    before(function () {
      requirePeers(this, 'python3-pydicom', 'dcmtk', 'dicom3tools');
    });

    for (const file of SEGS) {
      it(`${file.split('/').slice(-2).join('/')}: the same elements and values in Implicit VR Little Endian`, () => {
        const original = readPart10(file);
        expect(original.transferSyntaxUID).to.equal(TransferSyntax.ExplicitVRLittleEndian);
        const implicit = toImplicitVRLittleEndian(original.dataSet, original.transferSyntaxUID);
        expect(implicit.length % 2).to.equal(0);
        // The first element's header is tag + 32-bit length: no VR characters.
        const first = Buffer.from(implicit.subarray(0, 8));
        expect(first.readUInt32LE(4)).to.be.lessThan(0x10000);
        expect(dicom.isVR(first.toString('latin1', 4, 6))).to.equal(false);

        const converted = join(dir, `${file.split('/').pop()}.implicit.dcm`);
        writeBareDataSet(converted, implicit, { ...original, transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian });
        const comparison = comparePart10WithPydicom(file, converted);
        expect(comparison.transferSyntaxes).to.deep.equal([TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian]);
        expect(comparison.differences).to.deep.equal([]);
        expect(comparison.counts.elements).to.be.greaterThan(100);
        expect(comparison.counts.sequences).to.be.greaterThan(10);

        // DCMTK reads it to the end without complaint, and dciodvfy finds no error the original
        // has not (the 2022 dciodvfy does not know Label Map SEG: false errors on the highdicom one).
        const dump = runPeer('dcmdump', ['-q', '-dc', converted]);
        expect(dump.status, dump.stderr).to.equal(0);
        expect(dump.stderr).to.equal('');
        const errors = (path: string) => runPeer('dciodvfy', [path]).stderr.split('\n').filter((l) => l.startsWith('Error'));
        expect(errors(converted)).to.deep.equal(errors(file));
        if (!file.includes('labelmap')) expect(errors(converted)).to.deep.equal([]);
      });
    }
  });

  describe('encoding', function () {
    // (0008,0016) UI odd length; (0009,0010) private creator; (0009,1001) private SQ of one item
    // with a private element and a nested empty sequence; (0010,0000) a group length.
    const sopClass = text('1.2.840.10008.5.1.4.1.1.66.4'); // 28 characters: even
    const odd = text('ABC'); // malformed odd length (LO), padded on output
    const dataSet = Buffer.concat([
      explicit(0x0008, 0x0016, 'UI', sopClass),
      explicit(0x0008, 0x0018, 'UI', text('1.2.3.4.5')), // odd UI: padded with NUL
      explicit(0x0009, 0x0010, 'LO', text('LIMEN TEST')),
      explicit(0x0009, 0x1001, 'SQ', item(Buffer.concat([explicit(0x0009, 0x1002, 'US', [7, 0]), explicit(0x0040, 0xa730, 'SQ', [])]))),
      explicit(0x0010, 0x0000, 'UL', [16, 0, 0, 0]),
      explicit(0x0010, 0x0010, 'PN', odd),
    ]);

    it('writes tag + 32-bit length, sequences and items of undefined length, odd values padded, no group lengths', () => {
      const out = Buffer.from(toImplicitVRLittleEndian(dataSet, TransferSyntax.ExplicitVRLittleEndian));
      const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
      const tag = (g: number, e: number) => { const b = Buffer.alloc(4); b.writeUInt16LE(g, 0); b.writeUInt16LE(e, 2); return b; };
      const expected = Buffer.concat([
        tag(0x0008, 0x0016), u32(28), sopClass,
        tag(0x0008, 0x0018), u32(10), text('1.2.3.4.5\0'),
        tag(0x0009, 0x0010), u32(10), text('LIMEN TEST'),
        tag(0x0009, 0x1001), u32(0xffffffff),
        tag(0xfffe, 0xe000), u32(0xffffffff),
        tag(0x0009, 0x1002), u32(2), Buffer.from([7, 0]),
        tag(0x0040, 0xa730), u32(0xffffffff), tag(0xfffe, 0xe0dd), u32(0),
        tag(0xfffe, 0xe00d), u32(0),
        tag(0xfffe, 0xe0dd), u32(0),
        tag(0x0010, 0x0010), u32(4), text('ABC '),
      ]);
      expect(out.toString('hex')).to.equal(expected.toString('hex'));
    });

    it('keeps a private sequence parseable by pydicom although its VR is lost', function () {
      requirePeers(this, 'python3-pydicom');
      const meta = { sopClassUID: '1.2.840.10008.5.1.4.1.1.66.4', sopInstanceUID: '1.2.3.4.5' };
      const source = join(dir, 'private.explicit.dcm');
      const converted = join(dir, 'private.implicit.dcm');
      // The odd PN is left out of the original here: pydicom would pad it differently than it reads it.
      writeBareDataSet(source, dataSet.subarray(0, dataSet.length - 8 - odd.length), { ...meta, transferSyntaxUID: TransferSyntax.ExplicitVRLittleEndian });
      writeBareDataSet(converted, toImplicitVRLittleEndian(dataSet.subarray(0, dataSet.length - 8 - odd.length), TransferSyntax.ExplicitVRLittleEndian), { ...meta, transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian });
      const comparison = comparePart10WithPydicom(source, converted);
      expect(comparison.differences).to.deep.equal([]);
      expect(comparison.counts.sequences).to.equal(2);
    });

    it('refuses encapsulated pixel data and other transfer syntaxes, saying why', () => {
      const rle = readPart10('test/fixtures/pydicom-corpus/test_files/MR_small_RLE.dcm');
      const refusal = (bytes: Uint8Array, ts: string) => {
        try {
          toImplicitVRLittleEndian(bytes, ts);
        } catch (err) {
          return err as ImplicitVRConversionError;
        }
        throw new Error('converted');
      };
      const encapsulated = refusal(rle.dataSet, TransferSyntax.ExplicitVRLittleEndian);
      expect(encapsulated).to.be.instanceOf(ImplicitVRConversionError);
      expect(encapsulated.code).to.equal('encapsulated-pixel-data');
      expect(encapsulated.message).to.match(/encapsulated pixel data at \(7FE0,0010\) cannot be sent in Implicit VR Little Endian/i);
      expect(refusal(rle.dataSet, TransferSyntax.RLELossless)).to.include({ code: 'not-explicit-little-endian' });
      expect(refusal(rle.dataSet, TransferSyntax.RLELossless).message).to.include('not RLE Lossless');
      expect(refusal(Buffer.from([8, 0, 0x16, 0, 0x55, 0x49, 40, 0]), TransferSyntax.ExplicitVRLittleEndian)).to.include({ code: 'unreadable' });
    });
  });
});
