import { expect } from 'chai';
import { extractSurface, measureMesh } from '../../../pipeline/mesh/index.js';
import { axialGeometry, countInside, maskFrom, type Dims } from './masks.js';

/** A ball of radius `r` mm sampled on a grid of the given spacing, centred in the grid. */
function voxelBall(r: number, spacing: [number, number, number], origin: [number, number, number] = [0, 0, 0]) {
  const dims = spacing.map((s) => Math.ceil((2 * r) / s) + 4) as Dims;
  const centre = dims.map((d, a) => ((d - 1) / 2) * spacing[a]);
  const mask = maskFrom(dims, (i, j, k) => Math.hypot(i * spacing[0] - centre[0], j * spacing[1] - centre[1], k * spacing[2] - centre[2]) <= r);
  return { mask, geometry: axialGeometry(dims, spacing, origin), voxelVolume: countInside(mask) * spacing[0] * spacing[1] * spacing[2] };
}

describe('pipeline/mesh measureMesh', () => {
  for (const [r, spacing] of [
    [10, [1, 1, 1]],
    [14, [0.7, 0.7, 1.5]],
  ] as const) {
    it(`measures a voxelized sphere (r = ${r} mm, spacing ${spacing.join('×')}) close to its analytic and voxel volume`, () => {
      const { mask, geometry, voxelVolume } = voxelBall(r, [...spacing]);
      const m = measureMesh(extractSurface(mask, geometry));
      const analytic = (4 / 3) * Math.PI * r ** 3;
      expect(m.signedVolumeMm3, 'outward: positive').to.be.greaterThan(0);
      expect(Math.abs(m.signedVolumeMm3 - analytic) / analytic).to.be.lessThan(0.02);
      expect(Math.abs(m.signedVolumeMm3 - voxelVolume) / voxelVolume).to.be.lessThan(0.02);
      expect(m.volumeMl).to.be.closeTo(m.signedVolumeMm3 / 1000, 1e-12);
      // Marching cubes on a binary mask over-estimates area (stair steps), but not wildly.
      const area = 4 * Math.PI * r * r;
      expect(m.areaMm2).to.be.within(area, area * 1.15);
    });
  }

  it('gives the same volume far from the patient origin (float32 positions)', () => {
    const near = voxelBall(8, [1, 1, 1]);
    const far = voxelBall(8, [1, 1, 1], [-480.25, 355.5, -1620.75]);
    const a = measureMesh(extractSurface(near.mask, near.geometry)).signedVolumeMm3;
    const b = measureMesh(extractSurface(far.mask, far.geometry)).signedVolumeMm3;
    expect(Math.abs(a - b) / a).to.be.lessThan(1e-5);
  });

  it('measures a single voxel exactly: an octahedron with 1/6 of the voxel volume', () => {
    const m = measureMesh(extractSurface(new Uint8Array([1]), axialGeometry([1, 1, 1], [2, 3, 4])));
    expect(m.signedVolumeMm3).to.be.closeTo((2 * 3 * 4) / 6, 1e-9);
    // Eight faces, each with edges from (±1,0,0),(0,±1.5,0),(0,0,±2): area = 4·|u×v| for one face.
    const face = Math.hypot(1.5 * 2, 1 * 2, 1 * 1.5) / 2;
    expect(m.areaMm2).to.be.closeTo(8 * face, 1e-9);
  });

  it('returns zero for an empty mesh', () => {
    expect(measureMesh({ positions: new Float32Array(0), indices: new Uint32Array(0) })).to.deep.equal({ signedVolumeMm3: 0, volumeMl: 0, areaMm2: 0 });
  });
});
