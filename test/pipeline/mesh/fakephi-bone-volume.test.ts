/**
 * The bone of ct-fakephi (3 mm voxels: ribs and cortical walls one or two voxels thick) meshed
 * exactly as the pipeline meshes it: the mesh encloses the voxel volume within 3 %, whatever the
 * grid's orientation. Decimation to 10 % with no bound on how far the surface may move flattened
 * such thin bone: 69 % of the voxel volume after plain windowed-sinc smoothing, and 82 % with the
 * default smoothing once the same grid was turned obliquely (the axial grid had escaped only because
 * its decimation failed and the undecimated mesh was kept). Decimation now stops at half a voxel.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { meshSegment, type VolumeGeometry } from '../../../pipeline/mesh/index.js';
import { SHIPPED_DEFAULT_DIR } from '../../../pipeline/models/build/default-model.js';
import { segmentInWorker, type SegmentationResult } from '../../../pipeline/segment/index.js';
import { DEFAULT_SERIES_RULE, assembleVolumeOrThrow, selectSeries } from '../../../pipeline/volume/index.js';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';

type Vec3 = [number, number, number];

/** Rotation by `degrees` about the unit `axis` (Rodrigues). */
function rotation(axis: Vec3, degrees: number): (v: readonly number[]) => Vec3 {
  const t = (degrees * Math.PI) / 180;
  const [x, y, z] = axis;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const k = 1 - c;
  return (v) => [
    (c + x * x * k) * v[0] + (x * y * k - z * s) * v[1] + (x * z * k + y * s) * v[2],
    (y * x * k + z * s) * v[0] + (c + y * y * k) * v[1] + (y * z * k - x * s) * v[2],
    (z * x * k - y * s) * v[0] + (z * y * k + x * s) * v[1] + (c + z * z * k) * v[2],
  ];
}

describe('pipeline/mesh bone volume on 3 mm CT (ct-fakephi)', function () {
  this.timeout(120_000);
  let result: SegmentationResult;
  let geometry: VolumeGeometry;
  let boneId: number;
  let voxelMl: number;

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
    const bone = result.segments.find((s) => s.name === 'Bone')!;
    boneId = bone.id;
    voxelMl = bone.volumeMl;
  });

  it('the bone mesh encloses its voxel volume within 3 %', async () => {
    const meshed = await meshSegment(result.labelMap.labels, geometry, boneId);
    expect(meshed.volumeMl / voxelMl).to.be.within(0.97, 1.03);
    expect(meshed.mesh.indices.length / 3, 'decimated').to.be.lessThan(meshed.extractedTriangles);
  });

  it('so it does on the same grid turned obliquely (7° about one axis, 5° about another)', async () => {
    const turn = (v: readonly number[]) => rotation([0, 0, 1], 7)(rotation([1, 0, 0], 5)(v));
    const oblique: VolumeGeometry = {
      ...geometry,
      origin: turn(geometry.origin),
      rowDirection: turn(geometry.rowDirection),
      columnDirection: turn(geometry.columnDirection),
      sliceDirection: turn(geometry.sliceDirection),
    };
    const axial = await meshSegment(result.labelMap.labels, geometry, boneId);
    const turned = await meshSegment(result.labelMap.labels, oblique, boneId);
    expect(turned.volumeMl / voxelMl).to.be.within(0.97, 1.03);
    expect(turned.volumeMl / axial.volumeMl).to.be.within(0.98, 1.02);
  });

  it('what the half-voxel bound guards against: decimated without it, plain-smoothed thin bone keeps under 80 %', async () => {
    const plain = { method: 'windowed-sinc', keepLocalVolume: false } as const;
    const bounded = await meshSegment(result.labelMap.labels, geometry, boneId, { smoothing: plain });
    const unbounded = await meshSegment(result.labelMap.labels, geometry, boneId, { smoothing: plain, decimation: { maxErrorMm: 1e30 } });
    expect(bounded.volumeMl / voxelMl).to.be.greaterThan(0.95);
    expect(unbounded.volumeMl / voxelMl).to.be.lessThan(0.8);
  });
});
