/**
 * remapReferences, as the exporter will use it to re-identify a SEG: every pseudonymous UID the
 * SEG holds is replaced through the map, and nothing else changes.
 */
import { expect } from 'chai';
import { dicom } from '../../../anonymizer/index.js';
import { isSegError, readSegmentation, remapDataset, remapReferences, segmentMasks, writeSegmentation, type WrittenSegmentation } from '../../../pipeline/seg/index.js';
import { requirePeers } from '../../support/peers.js';
import { dciodvfy, loadCtGrid, removeTempDirs, segInput, syntheticLabels, writeTemp, type CtGrid } from './helpers.js';

type Element = dicom.Element;

/** Walks two datasets of the same shape together, calling `visit` on each pair of leaf elements. */
function walkPairs(a: Element[], b: Element[], visit: (x: Element, y: Element, where: string) => void, where = ''): void {
  expect(b.map((e) => e.tag), `tags at ${where || 'top'}`).to.deep.equal(a.map((e) => e.tag));
  a.forEach((x, i) => {
    const y = b[i];
    const here = `${where}/${dicom.formatTag(x.tag)}`;
    expect(y.vr, here).to.equal(x.vr);
    if (x.items) {
      expect(y.items?.length, here).to.equal(x.items.length);
      x.items.forEach((item, k) => walkPairs(item, y.items![k], visit, `${here}[${k}]`));
    } else {
      visit(x, y, here);
    }
  });
}

const padded = (n: number): number => n + (n & 1);

describe('pipeline/seg remapReferences', function () {
  this.timeout(30_000);
  let grid: CtGrid;
  let seg: WrittenSegmentation;
  let dimensionOrganizationUID: string;
  /** Every UID the exporter maps, to replacements of other lengths. */
  let uidMap: Map<string, string>;

  before(() => {
    grid = loadCtGrid();
    seg = writeSegmentation(segInput(syntheticLabels(grid.geometry)));
    const ds = dicom.readPart10(seg.bytes).dataset;
    dimensionOrganizationUID = dicom.stringOf(dicom.find(dicom.find(ds, 0x00209221)!.items![0], 0x00209164))!;
    let n = 0;
    const original = (): string => `1.2.826.0.1.3680043.10.1.${++n}${'7'.repeat(n % 5)}`;
    uidMap = new Map([
      [grid.studyInstanceUID, original()],
      [grid.seriesInstanceUID, original()],
      [grid.frameOfReferenceUID, original()],
      ...grid.sources.map((s): [string, string] => [s.sopInstanceUID, original()]),
      [seg.seriesInstanceUID, original()],
      [seg.sopInstanceUID, original()],
    ]);
  });
  after(removeTempDirs);

  it('replaces every mapped UID, wherever it is, and changes nothing else', () => {
    const result = remapReferences(seg.bytes, uidMap);
    // The only UID of ours left unmapped: the dimension organization, which is the SEG's own.
    expect(result.unmapped).to.deep.equal([dimensionOrganizationUID]);
    const before = dicom.readPart10(seg.bytes);
    const after = dicom.readPart10(result.bytes);
    let expectedGrowth = 0;
    let replaced = 0;
    const visit = (x: Element, y: Element, where: string): void => {
      if (x.tag === 0x00020000) return; // the meta group length, checked below
      const from = dicom.stringOf(x)!;
      const to = uidMap.get(from);
      if (x.vr === 'UI' && to !== undefined) {
        expect(dicom.stringOf(y), where).to.equal(to);
        expectedGrowth += padded(to.length) - padded(x.value!.length);
        replaced++;
      } else {
        expect(Buffer.from(y.value ?? []).equals(Buffer.from(x.value ?? [])), where).to.equal(true);
      }
    };
    walkPairs(before.meta!, after.meta!, visit);
    const metaGrowth = expectedGrowth;
    const groupLength = (meta: Element[]): number => Buffer.from(dicom.find(meta, 0x00020000)!.value!).readUInt32LE(0);
    expect(groupLength(after.meta!) - groupLength(before.meta!)).to.equal(metaGrowth);
    walkPairs(before.dataset, after.dataset, visit);
    expect(result.replaced).to.equal(replaced);
    // References: study, FoR, series, 112 instances in ReferencedSeriesSequence, one per frame,
    // plus the SEG's own series, instance and MediaStorageSOPInstanceUID.
    expect(replaced).to.equal(3 + 112 + seg.numberOfFrames + 3);
    // Every byte of difference is a UID's.
    expect(result.bytes.length - seg.bytes.length).to.equal(expectedGrowth);
    const text = Buffer.from(result.bytes).toString('latin1');
    for (const pseudonymous of uidMap.keys()) expect(text.includes(pseudonymous), pseudonymous).to.equal(false);
  });

  it('leaves a SEG as it was when nothing is mapped', () => {
    const result = remapReferences(seg.bytes, new Map());
    expect(Buffer.from(result.bytes).equals(Buffer.from(seg.bytes))).to.equal(true);
    expect(result.replaced).to.equal(0);
    expect(result.unmapped).to.include(grid.studyInstanceUID).and.to.include(seg.sopInstanceUID);
    expect(result.unmapped.some((u) => u.startsWith('1.2.840.10008.'))).to.equal(false);
  });

  it('gives a SEG that still validates and still holds the same masks', function () {
    requirePeers(this, 'dicom3tools');
    const result = remapReferences(seg.bytes, uidMap);
    const report = dciodvfy(writeTemp('remapped.dcm', result.bytes));
    expect(report.errors, report.output).to.deep.equal([]);
    const read = readSegmentation(result.bytes);
    expect(read.studyInstanceUID).to.equal(uidMap.get(grid.studyInstanceUID));
    expect(read.frameOfReferenceUID).to.equal(uidMap.get(grid.frameOfReferenceUID));
    expect(read.sopInstanceUID).to.equal(uidMap.get(seg.sopInstanceUID));
    expect(read.referencedSeries[0].seriesInstanceUID).to.equal(uidMap.get(grid.seriesInstanceUID));
    expect(read.frames.every((f) => f.source?.sopInstanceUID === uidMap.get(grid.sources.find((s) => s.position.every((v, k) => v === f.position[k]))!.sopInstanceUID))).to.equal(true);
    const masks = segmentMasks(read, grid.geometry);
    const original = segmentMasks(readSegmentation(seg.bytes), grid.geometry);
    for (const [n, mask] of original) expect(Buffer.from(masks.get(n)!).equals(Buffer.from(mask))).to.equal(true);
  });

  it('remaps multi-valued UI elements value by value, and leaves the input dataset untouched', () => {
    const ds: Element[] = [
      dicom.textElement(0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
      dicom.textElement(0x0040a124, 'UI', '2.25.1\\2.25.2\\2.25.3'),
      dicom.textElement(0x00100020, 'LO', '2.25.1'),
    ];
    const copy = ds.map((e) => ({ ...e, value: e.value!.slice() }));
    const out = remapDataset(ds, new Map([['2.25.1', '1.9'], ['2.25.3', '1.99.1']]));
    expect(dicom.stringOf(out.dataset[1])).to.equal('1.9\\2.25.2\\1.99.1');
    expect(dicom.stringOf(out.dataset[2]), 'not a UI element').to.equal('2.25.1');
    expect(out.replaced).to.equal(2);
    expect(out.unmapped).to.deep.equal(['2.25.2']);
    expect(ds).to.deep.equal(copy);
  });

  it('refuses an invalid replacement', () => {
    try {
      remapReferences(seg.bytes, new Map([[grid.studyInstanceUID, '1.2.03']]));
      expect.fail('accepted an invalid UID');
    } catch (e) {
      expect(isSegError(e, 'invalid-input')).to.equal(true);
    }
  });
});
