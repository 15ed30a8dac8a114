/**
 * The SEG writer on the ct-fakephi grid (112 slices of 101 × 122, 3 mm): a frame is 12322 pixels,
 * not a whole number of bytes, so as 1-bit frames most would start mid-byte, which viewers decode
 * wrong; the writer makes it FRACTIONAL (one byte per pixel, 0 or 255). On a grid whose frames are
 * whole bytes (512 × 512) it stays BINARY, no larger than before. Checked with the real peers:
 * dciodvfy, pydicom and dcmdump.
 */
import { expect } from 'chai';
import { dicom } from '../../../anonymizer/index.js';
import {
  SEGMENTATION_STORAGE, frameMask, isSegError, readSegmentation, segmentMasks, segmentationTypeFor, writeSegmentation,
  type WrittenSegmentation,
} from '../../../pipeline/seg/index.js';
import { TAG } from '../../../pipeline/seg/tags.js';
import type { LabelMap } from '../../../pipeline/volume/types.js';
import { requirePeers } from '../../support/peers.js';
import { dciodvfy, loadCtGrid, readWithPydicom, removeTempDirs, run, segInput, syntheticLabels, writeTemp, type CtGrid } from './helpers.js';

/** The expected mask of one label, one byte per voxel. */
const maskOf = (map: LabelMap, label: number): Uint8Array => map.labels.map((v) => (v === label ? 1 : 0));

describe('pipeline/seg writeSegmentation on the ct-fakephi grid', function () {
  this.timeout(30_000);
  let grid: CtGrid;
  let map: LabelMap;
  let seg: WrittenSegmentation;
  let path: string;

  before(() => {
    grid = loadCtGrid();
    expect(grid.geometry.dims).to.deep.equal([122, 101, 112]);
    map = syntheticLabels(grid.geometry);
    const input = segInput(map);
    input.segments.push({ labelId: 7, label: 'Absent', category: { value: '91723000', scheme: 'SCT', meaning: 'Anatomical Structure' }, type: { value: '39937001', scheme: 'SCT', meaning: 'Skin' } });
    // A laterality modifier, which belongs inside the type's item (dciodvfy below says so when it is not).
    input.segments[1] = { ...input.segments[1], typeModifier: { value: '7771000', scheme: 'SCT', meaning: 'Left' } };
    seg = writeSegmentation(input);
    path = writeTemp('seg.dcm', seg.bytes);
  });
  after(removeTempDirs);

  it('writes one frame per segment and slice that holds the segment, and leaves out an empty segment', () => {
    const [nx, ny, nz] = map.dims;
    const expected = [1, 2, 3].map((label) => {
      let frames = 0;
      let voxels = 0;
      for (let z = 0; z < nz; z++) {
        const n = map.labels.subarray(z * nx * ny, (z + 1) * nx * ny).reduce((a, v) => a + (v === label ? 1 : 0), 0);
        if (n > 0) frames++;
        voxels += n;
      }
      return { frames, voxels };
    });
    expect(seg.segments.map((s) => [s.segmentNumber, s.labelId, s.frames, s.voxels])).to.deep.equal(expected.map((e, i) => [i + 1, i + 1, e.frames, e.voxels]));
    expect(seg.segments[2].frames).to.equal(6);
    expect(seg.numberOfFrames).to.equal(expected.reduce((a, e) => a + e.frames, 0));
    expect(seg.omittedLabelIds).to.deep.equal([7]);
  });

  it('passes dciodvfy with 0 errors and 0 warnings', function () {
    requirePeers(this, 'dicom3tools');
    const report = dciodvfy(path);
    expect(report.output).to.match(/^Segmentation$/m);
    expect(report.errors, report.output).to.deep.equal([]);
    expect(report.warnings, report.output).to.deep.equal([]);
  });

  it('reads back in pydicom to exactly the written masks, frames placed by PlanePositionSequence', function () {
    requirePeers(this, 'python3-pydicom');
    const py = readWithPydicom(path, grid.geometry);
    expect(py.shape).to.deep.equal([seg.numberOfFrames, 101, 122]);
    expect(py.labels).to.deep.equal(['Sphere', 'Box', 'Sparse']);
    const voxels = map.labels.length;
    [1, 2, 3].forEach((label, i) => {
      const got = py.volume!.subarray(i * voxels, (i + 1) * voxels);
      expect(Buffer.from(got).equals(Buffer.from(maskOf(map, label))), `segment ${label}`).to.equal(true);
    });
  });

  it('is read by dcmdump without complaint', function () {
    requirePeers(this, 'dcmtk');
    const r = run('/usr/bin/dcmdump', ['-q', '+P', 'NumberOfFrames', '+P', 'SOPClassUID', '+P', 'SegmentationType', path]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.contain(`IS [${seg.numberOfFrames}]`);
    expect(r.stdout).to.contain('=SegmentationStorage');
    expect(r.stdout).to.contain('CS [FRACTIONAL]');
  });

  it('round-trips through readSegmentation onto the CT grid', () => {
    const read = readSegmentation(seg.bytes);
    expect(read.sopInstanceUID).to.equal(seg.sopInstanceUID);
    expect(read.seriesInstanceUID).to.equal(seg.seriesInstanceUID);
    expect(read.studyInstanceUID).to.equal(grid.studyInstanceUID);
    expect(read.frameOfReferenceUID).to.equal(grid.frameOfReferenceUID);
    expect([read.rows, read.columns]).to.deep.equal([101, 122]);
    expect(read.pixelSpacing).to.deep.equal([3, 3]);
    expect(read.spacingBetweenSlices).to.equal(3);
    expect(read.segments.map((s) => [s.segmentNumber, s.label, s.algorithmType, s.algorithmName])).to.deep.equal([
      [1, 'Sphere', 'AUTOMATIC', 'Limen test model'],
      [2, 'Box', 'AUTOMATIC', 'Limen test model'],
      [3, 'Sparse', 'AUTOMATIC', 'Limen test model'],
    ]);
    expect(read.segments[1].anatomicRegion).to.deep.equal({ value: '818981001', scheme: 'SCT', meaning: 'Abdomen' });
    expect(read.segments[1].typeModifier).to.deep.equal({ value: '7771000', scheme: 'SCT', meaning: 'Left' });
    expect(read.segments[2].cieLab).to.deep.equal([40000, 30000, 35000]);
    const masks = segmentMasks(read, grid.geometry);
    for (const label of [1, 2, 3]) expect(Buffer.from(masks.get(label)!).equals(Buffer.from(maskOf(map, label))), `segment ${label}`).to.equal(true);
  });

  it('orders frames by segment, then along the slice direction, each referencing its source slice', () => {
    const read = readSegmentation(seg.bytes);
    const plane = 101 * 122;
    let previous: [number, number] = [0, -1];
    read.frames.forEach((frame, i) => {
      const z = grid.sources.findIndex((s) => s.sopInstanceUID === frame.source?.sopInstanceUID);
      expect(z, `frame ${i + 1} source`).to.be.at.least(0);
      expect(frame.position).to.deep.equal(grid.sources[z].position);
      expect(frame.source?.sopClassUID).to.equal('1.2.840.10008.5.1.4.1.1.2');
      expect(frame.source?.frameNumber).to.equal(undefined);
      const key: [number, number] = [frame.segmentNumber, z];
      expect(key[0] > previous[0] || (key[0] === previous[0] && key[1] > previous[1]), `frame ${i + 1} order`).to.equal(true);
      previous = key;
      // The frame is the source slice's voxels of that label, bit for bit.
      const expected = map.labels.subarray(z * plane, (z + 1) * plane).map((v) => (v === frame.segmentNumber ? 1 : 0));
      expect(Buffer.from(frameMask(read, i)).equals(Buffer.from(expected)), `frame ${i + 1} pixels`).to.equal(true);
    });
  });

  it('is FRACTIONAL, since 12322-pixel frames are not whole bytes: frame k is bytes k × 12322 on, each 0 or 255', () => {
    expect(seg.segmentationType).to.equal('FRACTIONAL');
    const plane = 101 * 122;
    const pixels = dicom.find(dicom.readPart10(seg.bytes).dataset, TAG.PixelData)!.value!;
    expect(pixels.length).to.equal(seg.numberOfFrames * plane);
    expect([...new Set(pixels)].sort((a, b) => a - b)).to.deep.equal([0, 255]);
    const read = readSegmentation(seg.bytes);
    expect(read.segmentationType).to.equal('FRACTIONAL');
    expect(read.fractional).to.deep.equal({ maximumFractionalValue: 255, fractionalType: 'OCCUPANCY' });
    read.frames.forEach((frame, k) => {
      const mask = frameMask(read, k);
      expect(pixels.subarray(k * plane, (k + 1) * plane).every((v, i) => v === mask[i] * 255), `frame ${k + 1}`).to.equal(true);
      // Segment 3 sets the first and last pixel of each of its frames.
      if (frame.segmentNumber === 3) expect([pixels[k * plane], pixels[(k + 1) * plane - 1]], `frame ${k + 1} first and last pixel`).to.deep.equal([255, 255]);
    });
  });

  it('writes the DimensionIndexValues as (segment number, rank of the position among the frames)', () => {
    const read = readSegmentation(seg.bytes);
    const zs = [...new Set(read.frames.map((f) => grid.sources.findIndex((s) => s.sopInstanceUID === f.source?.sopInstanceUID)))].sort((a, b) => a - b);
    for (const frame of read.frames) {
      const z = grid.sources.findIndex((s) => s.sopInstanceUID === frame.source?.sopInstanceUID);
      expect(frame.dimensionIndexValues).to.deep.equal([frame.segmentNumber, zs.indexOf(z) + 1]);
    }
  });

  it('references the source series and every instance, with the CT frame of reference', () => {
    const read = readSegmentation(seg.bytes);
    expect(read.referencedSeries).to.have.length(1);
    expect(read.referencedSeries[0].seriesInstanceUID).to.equal(grid.seriesInstanceUID);
    expect(read.referencedSeries[0].instances.map((i) => i.sopInstanceUID)).to.deep.equal(grid.sources.map((s) => s.sopInstanceUID));
  });

  it('carries the module attributes the brief and PS3.3 ask for', () => {
    const ds = dicom.readPart10(seg.bytes).dataset;
    const s = (tag: number): string | undefined => dicom.stringOf(dicom.find(ds, tag));
    expect(s(TAG.SOPClassUID)).to.equal(SEGMENTATION_STORAGE);
    expect(s(TAG.Modality)).to.equal('SEG');
    expect(s(TAG.ImageType)).to.equal('DERIVED\\PRIMARY');
    expect(s(TAG.SegmentationType)).to.equal('FRACTIONAL');
    expect(s(TAG.SegmentationFractionalType)).to.equal('OCCUPANCY');
    expect(dicom.uint16Of(dicom.find(ds, TAG.MaximumFractionalValue))).to.equal(255);
    expect(s(TAG.LossyImageCompression)).to.equal('00');
    expect(s(TAG.PhotometricInterpretation)).to.equal('MONOCHROME2');
    expect(s(TAG.ContentCreatorName)).to.equal('LIMEN^AUTOMATIC');
    expect(s(TAG.ContentLabel)).to.equal('SEGMENTATION');
    expect([s(TAG.ContentDate), s(TAG.ContentTime)]).to.deep.equal(['20240506', '070809.123']);
    expect(s(TAG.SeriesNumber)).to.equal('901');
    expect(s(TAG.PatientID)).to.equal('PSEUDO-7F3A21');
    expect(s(TAG.AccessionNumber)).to.equal('A7F3A21');
    expect(dicom.find(ds, TAG.PatientBirthDate)?.value?.length).to.equal(0);
    for (const tag of [TAG.BitsAllocated, TAG.BitsStored]) expect(dicom.uint16Of(dicom.find(ds, tag))).to.equal(8);
    expect(dicom.uint16Of(dicom.find(ds, TAG.HighBit))).to.equal(7);
    expect(dicom.uint16Of(dicom.find(ds, TAG.SamplesPerPixel))).to.equal(1);
    expect(dicom.uint16Of(dicom.find(ds, TAG.PixelRepresentation))).to.equal(0);
    for (const tag of [TAG.Manufacturer, TAG.ManufacturerModelName, TAG.DeviceSerialNumber, TAG.SoftwareVersions]) expect(s(tag)).to.not.equal('');
    const segment = dicom.find(ds, TAG.SegmentSequence)!.items![0];
    const algorithm = dicom.find(segment, TAG.SegmentationAlgorithmIdentificationSequence)!.items![0];
    expect(dicom.stringOf(dicom.find(algorithm, TAG.AlgorithmName))).to.equal('Limen test model');
    expect(dicom.stringOf(dicom.find(algorithm, TAG.AlgorithmVersion))).to.equal('1.0.0');
    expect(dicom.stringOf(dicom.find(dicom.find(algorithm, TAG.AlgorithmFamilyCodeSequence)!.items![0], TAG.CodeValue))).to.equal('123110');
    const frame = dicom.find(ds, TAG.PerFrameFunctionalGroupsSequence)!.items![0];
    const derivation = dicom.find(frame, TAG.DerivationImageSequence)!.items![0];
    expect(dicom.stringOf(dicom.find(dicom.find(derivation, TAG.DerivationCodeSequence)!.items![0], TAG.CodeValue))).to.equal('113076');
    const source = dicom.find(derivation, TAG.SourceImageSequence)!.items![0];
    expect(dicom.stringOf(dicom.find(dicom.find(source, TAG.PurposeOfReferenceCodeSequence)!.items![0], TAG.CodeValue))).to.equal('121322');
  });
});

describe('pipeline/seg writeSegmentation inputs and refusals', function () {
  this.timeout(30_000);
  let grid: CtGrid;
  let map: LabelMap;
  before(() => {
    grid = loadCtGrid();
    map = syntheticLabels(grid.geometry);
  });
  after(removeTempDirs);

  const code = (e: unknown): string | undefined => (isSegError(e) ? `${e.code}${e.path ? ` @ ${e.path}` : ''}` : String(e));
  const failure = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return code(e);
    }
    return undefined;
  };

  it('refuses an entirely empty segmentation', () => {
    const empty = { ...map, labels: new Uint8Array(map.labels.length) };
    expect(failure(() => writeSegmentation(segInput(empty)))).to.equal('empty-segmentation @ labelMap.labels');
  });

  it('refuses a label value that no segment describes', () => {
    const labels = map.labels.slice();
    labels[5] = 9;
    expect(failure(() => writeSegmentation(segInput({ ...map, labels })))).to.equal('unknown-label @ labelMap.labels');
  });

  it('names the input that is wrong', () => {
    const input = segInput(map);
    expect(failure(() => writeSegmentation({ ...input, source: { ...input.source, sources: input.source.sources.slice(1) } }))).to.equal('invalid-input @ source.sources');
    const reversed = { ...input.source, sources: [...input.source.sources].reverse() };
    expect(failure(() => writeSegmentation({ ...input, source: reversed }))).to.equal('invalid-input @ source.sources[0].position');
    expect(failure(() => writeSegmentation({ ...input, source: { ...input.source, frameOfReferenceUID: '1.02.3' } }))).to.equal('invalid-input @ source.frameOfReferenceUID');
    expect(failure(() => writeSegmentation({ ...input, labelMap: { ...map, labels: map.labels.subarray(1) } }))).to.equal('invalid-input @ labelMap.labels');
    expect(failure(() => writeSegmentation({ ...input, segments: [{ ...input.segments[0], label: 'x'.repeat(65) }, ...input.segments.slice(1)] }))).to.equal('invalid-input @ segments[0].label');
    expect(failure(() => writeSegmentation({ ...input, segments: [...input.segments, { ...input.segments[0] }] }))).to.equal('invalid-input @ segments[3].labelId');
    expect(failure(() => writeSegmentation({ ...input, segments: [{ ...input.segments[0], type: { value: '', scheme: 'SCT', meaning: 'Bone' } }, ...input.segments.slice(1)] }))).to.equal('invalid-input @ segments[0].type.value');
    expect(failure(() => writeSegmentation({ ...input, contentLabel: 'lower case' }))).to.equal('invalid-input @ contentLabel');
    expect(failure(() => writeSegmentation({ ...input, segments: [{ ...input.segments[0], contains: [1] }, ...input.segments.slice(1)] }))).to.equal('invalid-input @ segments[0].contains[0]');
    expect(failure(() => writeSegmentation({ ...input, segments: [{ ...input.segments[0], contains: [9] }, ...input.segments.slice(1)] }))).to.equal('invalid-input @ segments[0].contains[0]');
    expect(failure(() => writeSegmentation({ ...input, equipment: { ...input.equipment, deviceSerialNumber: '' } }))).to.equal('invalid-input @ equipment.deviceSerialNumber');
    expect(failure(() => writeSegmentation({ ...input, newUID: () => 'not-a-uid' }))).to.equal('invalid-input @ newUID() for the SeriesInstanceUID');
    expect(failure(() => writeSegmentation({ ...input, patientStudy: { studyDate: '2023-01-01' } }))).to.equal('invalid-input @ patientStudy.studyDate');
  });

  it('copies the patient/study elements byte for byte and keeps their character set, or transcodes them into UTF-8 when its own text needs it', () => {
    const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
    const elements: dicom.Element[] = [
      dicom.textElement(TAG.SpecificCharacterSet, 'CS', 'ISO_IR 100'),
      { tag: TAG.PatientName, vr: 'PN', value: latin1('M\xfcller^Pseud') },
      dicom.textElement(TAG.PatientID, 'LO', 'PSEUDO-1'),
      dicom.textElement(TAG.StudyInstanceUID, 'UI', grid.studyInstanceUID),
      dicom.textElement(TAG.StudyDate, 'DA', '20230101'),
    ];
    const input = segInput(map, { patientStudy: elements });
    input.segments[0] = { ...input.segments[0], label: 'Rückenmark' };
    const out = writeSegmentation(input);
    const ds = dicom.readPart10(out.bytes).dataset;
    expect(dicom.stringOf(dicom.find(ds, TAG.SpecificCharacterSet))).to.equal('ISO_IR 100');
    expect([...dicom.find(ds, TAG.PatientName)!.value!]).to.deep.equal([...latin1('M\xfcller^Pseud')]);
    expect(readSegmentation(out.bytes).segments[0].label).to.equal('Rückenmark');
    expect(dicom.find(ds, TAG.ReferringPhysicianName)?.value?.length).to.equal(0);
    expect(failure(() => writeSegmentation({ ...input, patientStudy: [dicom.textElement(TAG.StudyInstanceUID, 'UI', '1.2.3')] }))).to.equal('invalid-input @ patientStudy');
    // A label Latin-1 cannot hold: the SEG becomes UTF-8, its copied name transcoded, not refused.
    const greek = writeSegmentation({ ...input, segments: [{ ...input.segments[0], label: 'Ωμοπλάτη' }, ...input.segments.slice(1)] });
    const greekDs = dicom.readPart10(greek.bytes).dataset;
    expect(dicom.stringOf(dicom.find(greekDs, TAG.SpecificCharacterSet))).to.equal('ISO_IR 192');
    expect(new TextDecoder().decode(dicom.find(greekDs, TAG.PatientName)!.value!).trim()).to.equal('Müller^Pseud');
    expect(readSegmentation(greek.bytes).segments[0].label).to.equal('Ωμοπλάτη');
  });

  it('writes a segment that contains another over both labels, and then says its segments overlap', function () {
    requirePeers(this, 'python3-pydicom', 'dicom3tools');
    const overlapOf = (bytes: Uint8Array) => dicom.stringOf(dicom.find(dicom.readPart10(bytes).dataset, TAG.SegmentsOverlap));
    expect(overlapOf(writeSegmentation(segInput(map)).bytes)).to.equal('NO');
    // The sphere encloses the box, as a body encloses its bones.
    const input = segInput(map);
    input.segments[0] = { ...input.segments[0], contains: [2] };
    const out = writeSegmentation(input);
    expect(overlapOf(out.bytes)).to.equal('YES');
    const file = writeTemp('contains.dcm', out.bytes);
    const report = dciodvfy(file);
    expect([...report.errors, ...report.warnings], report.output).to.deep.equal([]);
    const union = map.labels.map((v) => (v === 1 || v === 2 ? 1 : 0));
    expect(out.segments.map((s) => s.voxels)).to.deep.equal([union.reduce((n, v) => n + v, 0), maskOf(map, 2).reduce((n, v) => n + v, 0), maskOf(map, 3).reduce((n, v) => n + v, 0)]);
    const py = readWithPydicom(file, grid.geometry);
    const voxels = map.labels.length;
    expect(Buffer.from(py.volume!.subarray(0, voxels)).equals(Buffer.from(union)), 'the sphere with the box').to.equal(true);
    expect(Buffer.from(py.volume!.subarray(voxels, 2 * voxels)).equals(Buffer.from(maskOf(map, 2))), 'the box').to.equal(true);
  });

  it("writes its own dates and times at the source's Timezone Offset From UTC, and declares none when the source has none", () => {
    const study = [dicom.textElement(TAG.StudyInstanceUID, 'UI', grid.studyInstanceUID), dicom.textElement(TAG.StudyTime, 'TM', '101502')];
    const at = (patientStudy: dicom.Element[]) => {
      const ds = dicom.readPart10(writeSegmentation(segInput(map, { patientStudy })).bytes).dataset;
      const s = (tag: number) => dicom.stringOf(dicom.find(ds, tag));
      return [s(TAG.TimezoneOffsetFromUTC), s(TAG.ContentDate), s(TAG.ContentTime), s(TAG.StudyTime)];
    };
    // 2024-05-06T07:08:09.123Z (segInput's content time) at +0100 and at -0530.
    expect(at([...study, dicom.textElement(TAG.TimezoneOffsetFromUTC, 'SH', '+0100')])).to.deep.equal(['+0100', '20240506', '080809.123', '101502']);
    expect(at([...study, dicom.textElement(TAG.TimezoneOffsetFromUTC, 'SH', '-0530')])).to.deep.equal(['-0530', '20240506', '013809.123', '101502']);
    const local = new Date('2024-05-06T07:08:09.123Z');
    const p = (n: number) => String(n).padStart(2, '0');
    expect(at(study)).to.deep.equal([undefined, `${local.getFullYear()}${p(local.getMonth() + 1)}${p(local.getDate())}`, `${p(local.getHours())}${p(local.getMinutes())}09.123`, '101502']);
  });

  it('declares UTF-8 for non-ASCII text when the source declared no character set', function () {
    requirePeers(this, 'dicom3tools');
    const input = segInput(map);
    input.segments[0] = { ...input.segments[0], label: 'Ωμοπλάτη' };
    const out = writeSegmentation(input);
    const ds = dicom.readPart10(out.bytes).dataset;
    expect(dicom.stringOf(dicom.find(ds, TAG.SpecificCharacterSet))).to.equal('ISO_IR 192');
    expect(readSegmentation(out.bytes).segments[0].label).to.equal('Ωμοπλάτη');
    expect(dciodvfy(writeTemp('utf8.dcm', out.bytes)).errors).to.deep.equal([]);
  });

  it('references frames of a multi-frame source with ReferencedFrameNumber and lists the instance once', function () {
    requirePeers(this, 'dicom3tools');
    const enhanced = '1.2.840.10008.5.1.4.1.1.2.1';
    const input = segInput(map);
    const sources = grid.sources.map((s, z) => ({ sopClassUID: enhanced, sopInstanceUID: '2.25.1234567890', frameNumber: z + 1, position: s.position }));
    const out = writeSegmentation({ ...input, source: { ...input.source, sources } });
    const read = readSegmentation(out.bytes);
    expect(read.referencedSeries[0].instances).to.deep.equal([{ sopClassUID: enhanced, sopInstanceUID: '2.25.1234567890' }]);
    for (const frame of read.frames) {
      const z = grid.sources.findIndex((s) => s.position.every((v, k) => v === frame.position[k]));
      expect(frame.source).to.deep.equal({ sopClassUID: enhanced, sopInstanceUID: '2.25.1234567890', frameNumber: z + 1 });
    }
    expect(dciodvfy(writeTemp('mf.dcm', out.bytes)).errors).to.deep.equal([]);
  });

  it('keeps the given UIDs and takes the others from the generator', () => {
    const made: string[] = [];
    let n = 0;
    const out = writeSegmentation(segInput(map, { sopInstanceUID: '2.25.42', newUID: () => { const u = `2.25.${++n}`; made.push(u); return u; } }));
    expect(out.sopInstanceUID).to.equal('2.25.42');
    expect(made).to.deep.equal(['2.25.1', '2.25.2']); // series, dimension organization
    expect(out.seriesInstanceUID).to.equal('2.25.1');
  });
});

/** An axial grid of `nx` × `ny` × `nz` 1 mm voxels with made-up source images, and the writer input for `labels` on it. */
function axialInput(dims: [number, number, number], labels: Uint8Array, segments = 2) {
  const [, , nz] = dims;
  const map: LabelMap = { dims, spacing: [1, 1, 2], origin: [0, 0, 0], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], sliceDirection: [0, 0, 1], labels };
  const sources = Array.from({ length: nz }, (_, z) => ({ sopClassUID: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUID: `2.25.${2000 + z}`, position: [0, 0, 2 * z] as [number, number, number] }));
  const base = segInput(map);
  return { map, input: { ...base, labelMap: map, source: { studyInstanceUID: '2.25.1', seriesInstanceUID: '2.25.2', frameOfReferenceUID: '2.25.3', sources }, segments: base.segments.slice(0, segments) } };
}

describe('pipeline/seg BINARY or FRACTIONAL: by whether 1-bit frames are whole bytes', function () {
  this.timeout(30_000);
  after(removeTempDirs);

  it('chooses BINARY exactly when Rows × Columns is a multiple of 8', () => {
    expect(segmentationTypeFor(512, 512)).to.equal('BINARY');
    expect(segmentationTypeFor(38, 24)).to.equal('BINARY');
    expect(segmentationTypeFor(101, 122)).to.equal('FRACTIONAL');
    expect(segmentationTypeFor(38, 23)).to.equal('FRACTIONAL');
    expect(segmentationTypeFor(511, 512)).to.equal('BINARY');
    expect(segmentationTypeFor(511, 511)).to.equal('FRACTIONAL');
  });

  it('keeps a 512 × 512 CT BINARY, one bit per pixel: PixelData no larger than the packed frames', () => {
    const dims: [number, number, number] = [512, 512, 3];
    const plane = 512 * 512;
    const labels = new Uint8Array(plane * 3);
    for (let z = 0; z < 3; z++) for (let i = 0; i < plane; i += 97) labels[z * plane + i] = 1 + ((i + z) % 2);
    labels[plane - 1] = 1;
    const { map, input } = axialInput(dims, labels);
    const out = writeSegmentation(input);
    expect(out.segmentationType).to.equal('BINARY');
    const ds = dicom.readPart10(out.bytes).dataset;
    expect(dicom.stringOf(dicom.find(ds, TAG.SegmentationType))).to.equal('BINARY');
    expect([TAG.BitsAllocated, TAG.BitsStored, TAG.HighBit].map((t) => dicom.uint16Of(dicom.find(ds, t)))).to.deep.equal([1, 1, 0]);
    expect(dicom.find(ds, TAG.MaximumFractionalValue)).to.equal(undefined);
    expect(dicom.find(ds, TAG.SegmentationFractionalType)).to.equal(undefined);
    expect(out.numberOfFrames).to.equal(6);
    expect(dicom.find(ds, TAG.PixelData)!.value!.length).to.equal((6 * plane) / 8);
    const masks = segmentMasks(readSegmentation(out.bytes), map);
    for (const label of [1, 2]) expect(Buffer.from(masks.get(label)!).equals(Buffer.from(maskOf(map, label))), `segment ${label}`).to.equal(true);
  });

  // 24 × 38 frames start on bytes: BINARY; 23 × 38 ones would start mid-byte: FRACTIONAL 0/255.
  const matrices = [
    { columns: 24, type: 'BINARY', what: 'byte-aligned BINARY frames', file: 'aligned.dcm', pydicom: ['BINARY', 1] },
    { columns: 23, type: 'FRACTIONAL', what: 'FRACTIONAL 0/255 frames of an odd matrix', file: 'odd.dcm', pydicom: ['FRACTIONAL', 8, [0, 255]] },
  ] as const;
  for (const { columns, type, what, file, pydicom } of matrices) {
    it(`writes ${what} that dciodvfy, pydicom and our reader agree on (${columns} × 38)`, function () {
      requirePeers(this, 'python3-pydicom', 'dicom3tools');
      const dims: [number, number, number] = [columns, 38, 5];
      const labels = new Uint8Array(columns * 38 * 5);
      for (let i = 0; i < labels.length; i++) labels[i] = (i * 2654435761) % 7 === 0 ? 1 : i % 5 === 0 ? 2 : 0;
      const { map, input } = axialInput(dims, labels);
      const out = writeSegmentation(input);
      expect(out.segmentationType).to.equal(type);
      const path = writeTemp(file, out.bytes);
      const report = dciodvfy(path);
      expect([...report.errors, ...report.warnings], report.output).to.deep.equal([]);
      const py = readWithPydicom(path, map);
      expect([py.segmentationType, py.bitsAllocated, ...(type === 'FRACTIONAL' ? [py.values] : [])]).to.deep.equal(pydicom);
      const masks = segmentMasks(readSegmentation(out.bytes), map);
      for (const label of [1, 2]) {
        const expected = Buffer.from(maskOf(map, label));
        expect(Buffer.from(masks.get(label)!).equals(expected), `ours, segment ${label}`).to.equal(true);
        expect(Buffer.from(py.volume!.subarray((label - 1) * labels.length, label * labels.length)).equals(expected), `pydicom, segment ${label}`).to.equal(true);
      }
    });
  }
});

describe('pipeline/seg on a small oblique grid', function () {
  this.timeout(30_000);
  after(removeTempDirs);

  it('round-trips a 23 × 38 × 4 oblique volume through our reader and pydicom', function () {
    requirePeers(this, 'python3-pydicom', 'dicom3tools');
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const row: [number, number, number] = [c, s, 0];
    const col: [number, number, number] = [0, 0, -1];
    const normal: [number, number, number] = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
    const dims: [number, number, number] = [23, 38, 4];
    const spacing: [number, number, number] = [0.7, 0.9, 2.5];
    const origin: [number, number, number] = [-10.5, 20.25, 30];
    const labels = new Uint8Array(dims[0] * dims[1] * dims[2]);
    for (let i = 0; i < labels.length; i++) labels[i] = (i * 2654435761) % 7 === 0 ? 1 : (i % 5 === 0 ? 2 : 0);
    const map: LabelMap = { dims, spacing, origin, rowDirection: row, columnDirection: col, sliceDirection: normal, labels };
    const sources = [0, 1, 2, 3].map((z) => ({
      sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUID: `2.25.${1000 + z}`,
      position: [0, 1, 2].map((k) => origin[k] + z * spacing[2] * normal[k]) as [number, number, number],
    }));
    const base = segInput(map);
    const out = writeSegmentation({
      ...base,
      labelMap: map,
      source: { studyInstanceUID: '2.25.1', seriesInstanceUID: '2.25.2', frameOfReferenceUID: '2.25.3', sources },
      segments: base.segments.slice(0, 2),
    });
    const masks = segmentMasks(readSegmentation(out.bytes), map);
    const path = writeTemp('oblique.dcm', out.bytes);
    const py = readWithPydicom(path, map);
    for (const label of [1, 2]) {
      const expected = Buffer.from(labels.map((v) => (v === label ? 1 : 0)));
      expect(Buffer.from(masks.get(label)!).equals(expected), `ours, segment ${label}`).to.equal(true);
      expect(Buffer.from(py.volume!.subarray((label - 1) * labels.length, label * labels.length)).equals(expected), `pydicom, segment ${label}`).to.equal(true);
    }
    expect(dciodvfy(path).errors).to.deep.equal([]);
  });
});
