/**
 * Assembling test/fixtures/ct-fakephi (112 axial slices, 101 × 122, EVRLE): geometry, sort order,
 * and HU voxel for voxel against pydicom's pixel_array × slope + intercept.
 */
import { expect } from 'chai';
import { assembleVolume, type CtVolume } from '../../../pipeline/volume/index.js';
import { CT_FAKEPHI_UIDS } from '../../support/fakephi.js';
import { requirePeers } from '../../support/peers.js';
import { FAKEPHI_COLUMNS, FAKEPHI_ROWS, PLANE, TAG, fakephiFiles, fakephiInputs, firstDifference, numbers, pydicomHu, shuffled } from './support.js';
import { dicom } from '../../../anonymizer/index.js';

async function assembled(inputs: Array<{ bytes: Uint8Array }>): Promise<CtVolume> {
  const result = await assembleVolume(inputs);
  if (!result.ok) throw new Error(`assembly failed: ${result.error.code}: ${result.error.message}`);
  return result.volume;
}

describe('pipeline/volume: assembling ct-fakephi', () => {
  let volume: CtVolume;

  before(async () => {
    volume = await assembled(fakephiInputs());
  });

  it('has the series geometry: 122 × 101 × 112, 3 mm everywhere, axial', () => {
    expect(volume.dims).to.deep.equal([FAKEPHI_COLUMNS, FAKEPHI_ROWS, 112]);
    expect(volume.hu).to.be.instanceOf(Int16Array);
    expect(volume.hu.length).to.equal(PLANE * 112);
    expect(volume.spacing[0]).to.equal(3);
    expect(volume.spacing[1]).to.equal(3);
    expect(volume.spacing[2]).to.be.closeTo(3, 1e-6);
    expect(volume.rowDirection).to.deep.equal([1, 0, 0]);
    expect(volume.columnDirection).to.deep.equal([0, 1, 0]);
    expect(volume.sliceDirection).to.deep.equal([0, 0, 1]);
    expect(volume.studyInstanceUID).to.equal(CT_FAKEPHI_UIDS.studyInstanceUID);
    expect(volume.seriesInstanceUID).to.equal(CT_FAKEPHI_UIDS.seriesInstanceUID);
    expect(volume.frameOfReferenceUID).to.equal(CT_FAKEPHI_UIDS.frameOfReferenceUID);
  });

  it('sorts inferior to superior by ImagePositionPatient z, not by InstanceNumber (instance 1 is the most superior)', () => {
    const z = volume.sources.map((s) => s.position[2]);
    expect(z[0]).to.be.closeTo(94.301758, 1e-6);
    expect(z[111]).to.be.closeTo(427.301758, 1e-6);
    for (let k = 1; k < z.length; k++) expect(z[k] - z[k - 1]).to.be.closeTo(3, 1e-4);
    expect(volume.origin).to.deep.equal(volume.sources[0].position);
    // File CT000001 (InstanceNumber 1) is the last slice of the volume.
    const first = dicom.readPart10(fakephiInputs()[0].bytes).dataset;
    expect(volume.sources[111].sopInstanceUID).to.equal(dicom.stringOf(dicom.find(first, TAG.SOPInstanceUID)));
    expect(numbers(first, TAG.ImagePositionPatient)[2]).to.be.closeTo(427.301758, 1e-6);
    expect(volume.sources.every((s) => s.frameNumber === undefined && s.sopClassUID === '1.2.840.10008.5.1.4.1.1.2')).to.equal(true);
  });

  it('gives the same volume, byte for byte, from shuffled input', async () => {
    const again = await assembled(shuffled(fakephiInputs(), 7));
    expect(firstDifference(again.hu, volume.hu)).to.equal(-1);
    expect(again.sources.map((s) => s.sopInstanceUID)).to.deep.equal(volume.sources.map((s) => s.sopInstanceUID));
    expect(again.origin).to.deep.equal(volume.origin);
  });

  it('takes the same instance delivered twice as one slice', async () => {
    const inputs = fakephiInputs();
    const again = await assembled([...inputs, inputs[40], inputs[41]]);
    expect(again.dims[2]).to.equal(112);
    expect(firstDifference(again.hu, volume.hu)).to.equal(-1);
  });

  describe('against pydicom', () => {
    before(function () {
      requirePeers(this, 'python3-pydicom');
    });

    it('equals pixel_array × RescaleSlope + RescaleIntercept voxel for voxel, in the same slice order', () => {
      const reference = pydicomHu(fakephiFiles());
      expect(reference.shape).to.deep.equal([112, FAKEPHI_ROWS, FAKEPHI_COLUMNS]);
      expect(volume.sources.map((s) => s.sopInstanceUID)).to.deep.equal(reference.sop);
      const at = firstDifference(volume.hu, reference.hu);
      expect(at, at < 0 ? '' : `first difference at voxel ${at}: ${volume.hu[at]} vs pydicom ${reference.hu[at]}`).to.equal(-1);
      // A few voxels by hand, so a wrong stride cannot hide behind an equally wrong reference layout.
      const voxel = (x: number, y: number, z: number): number => x + FAKEPHI_COLUMNS * (y + FAKEPHI_ROWS * z);
      for (const [x, y, z] of [[0, 0, 0], [61, 50, 56], [121, 100, 111], [30, 70, 10]]) {
        expect(volume.hu[voxel(x, y, z)]).to.equal(reference.hu[voxel(x, y, z)]);
      }
      // Air outside the body: a sanity check that these are HU at all, not stored values.
      expect(volume.hu[voxel(0, 0, 56)]).to.be.below(-900);
    });
  });
});
