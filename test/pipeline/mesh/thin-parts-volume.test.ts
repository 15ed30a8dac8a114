/**
 * Smoothing shrank thin parts: on 3 mm slices a thin-walled bone lost about 30 % of its voxel
 * volume, because a low-pass filter on positions collapses any part only a few voxels across.
 * These shapes, on 0.7 × 0.7 × 3 mm voxels, go through `meshSegment` exactly as the pipeline
 * meshes a segment (extraction, default smoothing, decimation to 10 %), and their enclosed volumes
 * are held to the voxel volume, the unsmoothed surface and, where the shape is resolved, the
 * analytic volume.
 */
import { expect } from 'chai';
import { extractSurface, measureMesh, meshSegment, checkManifold, type VolumeGeometry } from '../../../pipeline/mesh/index.js';
import { axialGeometry, countInside, maskFrom, type Dims } from './masks.js';

const spacing: [number, number, number] = [0.7, 0.7, 3];
const dims: Dims = [80, 80, 24];
const geometry: VolumeGeometry = axialGeometry(dims, spacing, [-30, -120, -700]);
const [cx, cy, cz] = [39.5, 39.5, 11.5];
/** Millimetres from the grid centre. */
const mm = (i: number, j: number, k: number): [number, number, number] => [(i - cx) * spacing[0], (j - cy) * spacing[1], (k - cz) * spacing[2]];

interface Volumes {
  voxelMm3: number;
  extractedMm3: number;
  finalMm3: number;
  /** The same pipeline without the drift removal (what the smoothing did before). */
  unkeptMm3: number;
}

async function volumes(inside: (i: number, j: number, k: number) => boolean): Promise<Volumes> {
  const mask = maskFrom(dims, inside);
  const meshed = await meshSegment(mask, geometry, 1);
  expect(checkManifold(meshed.mesh).closedManifold).to.equal(true);
  const unkept = await meshSegment(mask, geometry, 1, { smoothing: { method: 'windowed-sinc', keepLocalVolume: false } });
  return {
    voxelMm3: countInside(mask) * spacing[0] * spacing[1] * spacing[2],
    extractedMm3: measureMesh(extractSurface(mask, geometry, 1)).signedVolumeMm3,
    finalMm3: meshed.volumeMl * 1000,
    unkeptMm3: unkept.volumeMl * 1000,
  };
}

describe('pipeline/mesh thin parts keep their volume through smoothing', () => {
  it('a tube with a 2 mm wall across 3 mm slices (a thin bone): within 12 % of the voxel volume and 5 % of the unsmoothed surface', async () => {
    const v = await volumes((i, j, k) => {
      const [, y, z] = mm(i, j, k);
      const r = Math.hypot(y, z);
      return i > 5 && i < 74 && r >= 2 && r <= 4;
    });
    expect(v.unkeptMm3 / v.voxelMm3, 'the shrinkage this guards against').to.be.lessThan(0.75);
    expect(v.finalMm3 / v.voxelMm3).to.be.within(0.88, 1.02);
    expect(v.finalMm3 / v.extractedMm3).to.be.within(0.95, 1.05);
  });

  it('a rod 2 mm across along the slices: within 5 % of the unsmoothed surface instead of collapsing', async () => {
    const v = await volumes((i, j, k) => {
      const [x, y] = mm(i, j, k);
      return k > 2 && k < 21 && Math.hypot(x, y) <= 1;
    });
    expect(v.unkeptMm3 / v.voxelMm3, 'the collapse this guards against').to.be.lessThan(0.4);
    expect(v.finalMm3 / v.extractedMm3).to.be.within(0.95, 1.05);
    expect(v.finalMm3 / v.voxelMm3).to.be.within(0.8, 1.02);
  });

  it('a slab two slices (6 mm) thick: within 3 % of the voxel and analytic volume', async () => {
    const v = await volumes((i, j, k) => {
      const [x, y] = mm(i, j, k);
      return (k === 11 || k === 12) && Math.hypot(x, y) <= 20;
    });
    const analytic = Math.PI * 20 * 20 * 6;
    expect(v.finalMm3 / v.voxelMm3).to.be.within(0.97, 1.03);
    expect(v.finalMm3 / analytic).to.be.within(0.97, 1.03);
  });

  it('balls of radius 10 and 5 mm: within 3 % and 10 % of the analytic volume', async () => {
    for (const [radius, tolerance] of [
      [10, 0.03],
      [5, 0.1],
    ] as const) {
      const v = await volumes((i, j, k) => Math.hypot(...mm(i, j, k)) <= radius);
      const analytic = (4 / 3) * Math.PI * radius ** 3;
      expect(Math.abs(v.finalMm3 / analytic - 1), `r = ${radius} mm`).to.be.lessThan(tolerance);
      expect(v.finalMm3, `r = ${radius} mm: no worse than before`).to.be.greaterThan(v.unkeptMm3);
    }
  });
});
