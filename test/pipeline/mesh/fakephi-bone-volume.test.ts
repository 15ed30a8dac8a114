/**
 * The bone of ct-fakephi (3 mm voxels: ribs and cortical walls one or two voxels thick) meshed
 * exactly as the pipeline meshes it. Plain windowed-sinc smoothing left 69 % of its voxel volume;
 * with the normal drift removed the mesh encloses the voxel volume within 3 %.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { meshSegment, type VolumeGeometry } from '../../../pipeline/mesh/index.js';
import { SHIPPED_DEFAULT_DIR } from '../../../pipeline/models/build/default-model.js';
import { segmentInWorker, type SegmentationResult } from '../../../pipeline/segment/index.js';
import { DEFAULT_SERIES_RULE, assembleVolumeOrThrow, selectSeries } from '../../../pipeline/volume/index.js';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';

describe('pipeline/mesh bone volume on 3 mm CT (ct-fakephi)', function () {
  this.timeout(120_000);
  let result: SegmentationResult;
  let geometry: VolumeGeometry;

  before(async () => {
    const selected = selectSeries(
      CT_FAKEPHI_FILES.map((f) => ({ bytes: new Uint8Array(readFileSync(f)) })),
      DEFAULT_SERIES_RULE,
    );
    if (!selected.ok) throw new Error(selected.error.message);
    const volume = await assembleVolumeOrThrow(selected.series.instances);
    expect(volume.spacing).to.deep.equal([3, 3, 3]);
    result = await segmentInWorker(volume, SHIPPED_DEFAULT_DIR);
    geometry = volume;
  });

  it('the bone mesh encloses its voxel volume within 3 % (plain windowed sinc lost about 30 %)', async () => {
    const bone = result.segments.find((s) => s.name === 'Bone')!;
    const meshed = await meshSegment(result.labelMap.labels, geometry, bone.id);
    expect(meshed.volumeMl / bone.volumeMl).to.be.within(0.97, 1.03);
    const plain = await meshSegment(result.labelMap.labels, geometry, bone.id, { smoothing: { method: 'windowed-sinc', keepLocalVolume: false } });
    expect(plain.volumeMl / bone.volumeMl, 'what the plain filter does to thin bone').to.be.lessThan(0.8);
  });
});
