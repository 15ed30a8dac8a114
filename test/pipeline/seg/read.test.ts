/**
 * readSegmentation on SEGs from other writers (dcmqi/DCMTK, highdicom; Explicit and Implicit VR):
 * every frame must equal what pydicom unpacks. dcmqi's 23 × 38 frames (874 bits) start mid-byte.
 * FRACTIONAL ones (highdicom's) read as masks of the pixels of at least half the maximum.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dicom } from '../../../anonymizer/index.js';
import { frameMask, isSegError, readSegmentation, segmentMasks, writeSegmentation } from '../../../pipeline/seg/index.js';
import { TAG } from '../../../pipeline/seg/tags.js';
import { requirePeers } from '../../support/peers.js';
import { CT_DIR, FIXTURES, loadCtGrid, readManyWithPydicom, removeTempDirs, segInput, syntheticLabels, type PydicomRead } from './helpers.js';

const REFERENCES = join(FIXTURES, 'seg-references');

const BINARY_REFERENCES: Array<[string, { frames: number; rows: number; columns: number; labels: string[] }]> = [
  ['dcmqi/segmentations/liver.dcm', { frames: 3, rows: 512, columns: 512, labels: ['Liver'] }],
  ['dcmqi/segmentations/partial_overlaps.dcm', { frames: 7, rows: 512, columns: 512, labels: ['GREEN', 'ORANGE', 'PURPLE', 'LIGHT_BLUE', 'DARK_BLUE'] }],
  ['dcmqi/segmentations/23x38x3/seg/label.seg', { frames: 3, rows: 38, columns: 23, labels: [] }],
  ['dcmqi/sr-example/seg.dcm', { frames: 13, rows: 128, columns: 128, labels: [] }],
  ['highdicom/seg_image_ct_binary.dcm', { frames: 3, rows: 16, columns: 16, labels: ['first segment'] }],
  ['highdicom/seg_image_ct_binary_overlap.dcm', { frames: 8, rows: 16, columns: 16, labels: [] }],
  ['highdicom/seg_image_ct_binary_single_frame.dcm', { frames: 1, rows: 128, columns: 128, labels: [] }],
  // FRACTIONAL, PROBABILITY, maximum 255: values 0 and 255; then 0, 64 and 128 (128 is at least half).
  ['highdicom/seg_image_ct_binary_fractional.dcm', { frames: 3, rows: 16, columns: 16, labels: [] }],
  ['highdicom/seg_image_ct_true_fractional.dcm', { frames: 3, rows: 16, columns: 16, labels: [] }],
];

describe('pipeline/seg readSegmentation on reference SEGs', function () {
  this.timeout(30_000);
  after(removeTempDirs);

  // One Python process reads them all.
  let pydicom: Map<string, PydicomRead> | undefined;
  const byPydicom = (file: string): PydicomRead => {
    pydicom ??= new Map(readManyWithPydicom(BINARY_REFERENCES.map(([f]) => ({ path: join(REFERENCES, f) }))).map((r, i) => [BINARY_REFERENCES[i][0], r]));
    return pydicom.get(file)!;
  };

  for (const [file, expected] of BINARY_REFERENCES) {
    it(`reads ${file} frame for frame as pydicom does`, function () {
      requirePeers(this, 'python3-pydicom');
      const seg = readSegmentation(readFileSync(join(REFERENCES, file)));
      expect([seg.frames.length, seg.rows, seg.columns]).to.deep.equal([expected.frames, expected.rows, expected.columns]);
      if (expected.labels.length > 0) expect(seg.segments.map((s) => s.label)).to.deep.equal(expected.labels);
      const py = byPydicom(file);
      expect(py.segmentNumbers).to.deep.equal(seg.segments.map((s) => s.segmentNumber));
      expect(seg.segmentationType).to.equal(py.segmentationType);
      const plane = seg.rows * seg.columns;
      let set = 0;
      seg.frames.forEach((_, i) => {
        const ours = frameMask(seg, i);
        set += ours.reduce((a, v) => a + v, 0);
        expect(Buffer.from(ours).equals(Buffer.from(py.frames.subarray(i * plane, (i + 1) * plane))), `frame ${i + 1}`).to.equal(true);
      });
      expect(set, 'the reference has foreground').to.be.greaterThan(0);
    });
  }

  it('finds the source images and positions of a dcmqi SEG', () => {
    const seg = readSegmentation(readFileSync(join(REFERENCES, 'dcmqi/segmentations/liver.dcm')));
    expect(seg.frames[0].source?.sopInstanceUID).to.equal('1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23433.1');
    expect(seg.frames[0].position).to.deep.equal([-235.2, -226.8, -128.69]);
    expect(seg.referencedSeries[0].instances).to.have.length(3);
    expect(seg.segments[0].cieLab).to.deep.equal([41661, 41167, 40792]);
  });

  it("places dcmqi's 23 × 38 frames on the grid of their CT", () => {
    const grid = loadCtGrid(join(REFERENCES, 'dcmqi/segmentations/23x38x3/image'));
    expect(grid.geometry.dims).to.deep.equal([23, 38, 3]);
    const seg = readSegmentation(readFileSync(join(REFERENCES, 'dcmqi/segmentations/23x38x3/seg/label.seg')));
    const masks = segmentMasks(seg, grid.geometry);
    const plane = 23 * 38;
    seg.frames.forEach((frame, i) => {
      const z = grid.sources.findIndex((s) => s.sopInstanceUID === frame.source?.sopInstanceUID);
      expect(z, `frame ${i + 1} source`).to.be.at.least(0);
      const slice = masks.get(frame.segmentNumber)!.subarray(z * plane, (z + 1) * plane);
      expect(Buffer.from(slice).equals(Buffer.from(frameMask(seg, i))), `frame ${i + 1} lands on its source slice`).to.equal(true);
    });
  });

  it('refuses what it does not read, with a code', () => {
    const code = (bytes: Uint8Array): string | undefined => {
      try {
        readSegmentation(bytes);
      } catch (e) {
        return isSegError(e) ? e.code : String(e);
      }
      return undefined;
    };
    expect(code(readFileSync(join(CT_DIR, 'CT000001.dcm')))).to.equal('not-a-segmentation');
    expect(code(new Uint8Array(300))).to.equal('not-a-segmentation');
    expect(code(readFileSync(join(REFERENCES, 'dcmqi/segmentations/sparse-labelmap-noppv.dcm')))).to.equal('unsupported-segmentation');
    // A FRACTIONAL SEG must say what its maximum is, and have 8-bit pixels.
    const fractional = dicom.readPart10(readFileSync(join(REFERENCES, 'highdicom/seg_image_ct_binary_fractional.dcm')));
    const rewritten = (change: (ds: dicom.Element[]) => dicom.Element[]): Uint8Array => {
      const meta = (tag: number): string => dicom.stringOf(dicom.find(fractional.meta ?? [], tag)) ?? '';
      return dicom.writePart10(
        { mediaStorageSOPClassUID: meta(dicom.T.MediaStorageSOPClassUID), mediaStorageSOPInstanceUID: meta(dicom.T.MediaStorageSOPInstanceUID), transferSyntaxUID: '1.2.840.10008.1.2.1', implementationClassUID: '2.25.9', implementationVersionName: 'TEST' },
        change(fractional.dataset),
      );
    };
    expect(code(rewritten((ds) => ds))).to.equal(undefined);
    expect(code(rewritten((ds) => ds.filter((e) => e.tag !== TAG.MaximumFractionalValue)))).to.equal('not-a-segmentation');
    expect(code(rewritten((ds) => ds.map((e) => (e.tag === TAG.MaximumFractionalValue ? { ...e, value: new Uint8Array([0, 0]) } : e))))).to.equal('not-a-segmentation');
    expect(code(rewritten((ds) => ds.map((e) => (e.tag === TAG.BitsAllocated ? { ...e, value: new Uint8Array([1, 0]) } : e))))).to.equal('not-a-segmentation');
    expect(code(rewritten((ds) => ds.map((e) => (e.tag === TAG.SegmentationType ? dicom.textElement(TAG.SegmentationType, 'CS', 'LABELMAP') : e))))).to.equal('unsupported-segmentation');
  });

  it('reads our FRACTIONAL SEG (an odd matrix) to the masks it was written from, and a BINARY one the same way', () => {
    const grid = loadCtGrid();
    const map = syntheticLabels(grid.geometry);
    const seg = readSegmentation(writeSegmentation(segInput(map)).bytes);
    expect(seg.segmentationType).to.equal('FRACTIONAL');
    const masks = segmentMasks(seg, grid.geometry);
    for (const label of [1, 2, 3]) expect(Buffer.from(masks.get(label)!).equals(Buffer.from(map.labels.map((v) => (v === label ? 1 : 0)))), `segment ${label}`).to.equal(true);
  });

  it('refuses to unpack onto a grid the frames do not lie on', () => {
    const grid = loadCtGrid();
    const seg = readSegmentation(writeSegmentation(segInput(syntheticLabels(grid.geometry))).bytes);
    const g = grid.geometry;
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return isSegError(e) ? e.code : String(e);
      }
      return undefined;
    };
    const halfSlice = { ...g, origin: [g.origin[0], g.origin[1], g.origin[2] + g.spacing[2] / 2] as [number, number, number] };
    expect(code(() => segmentMasks(seg, halfSlice))).to.equal('geometry-mismatch');
    expect(code(() => segmentMasks(seg, { ...g, dims: [g.dims[1], g.dims[0], g.dims[2]] }))).to.equal('geometry-mismatch');
    expect(code(() => segmentMasks(seg, { ...g, dims: [g.dims[0], g.dims[1], 40] }))).to.equal('geometry-mismatch');
    expect(code(() => segmentMasks(seg, g))).to.equal(undefined);
  });
});
