import { expect } from 'chai';
import { checkManifold, extractSurface, isMeshError, measureMesh, type TriangleMesh, type VolumeGeometry } from '../../../pipeline/mesh/index.js';
import { axialGeometry, ballMask, blobbyMask, countInside, maskFrom, noiseMask, type Dims } from './masks.js';

/** Closed, manifold, outward: every check the brief asks of a surface. */
function expectClosedOutward(mesh: TriangleMesh, what: string): void {
  const report = checkManifold(mesh);
  expect(report, what).to.include({ degenerateTriangles: 0, unmatchedHalfEdges: 0, duplicateHalfEdges: 0, nonManifoldVertices: 0, unusedVertices: 0 });
  expect(report.closedManifold, what).to.equal(true);
  if (mesh.indices.length > 0) expect(measureMesh(mesh).signedVolumeMm3, `${what}: signed volume`).to.be.greaterThan(0);
}

/** V − E + F; for a closed manifold every edge is in two triangles, so E = 3F/2. */
function eulerCharacteristic(mesh: TriangleMesh): number {
  const f = mesh.indices.length / 3;
  return mesh.positions.length / 3 - (3 * f) / 2 + f;
}

describe('pipeline/mesh extractSurface', () => {
  it('closes every one of the 256 cube configurations, alone in the grid', () => {
    for (let c = 1; c < 255; c++) {
      const mask = maskFrom([2, 2, 2], (i, j, k) => ((c >> (i | (j << 1) | (k << 2))) & 1) === 1);
      expectClosedOutward(extractSurface(mask, axialGeometry([2, 2, 2])), `case ${c}`);
    }
  });

  it('closes all 4096 configurations of two face-sharing cubes, along each axis', () => {
    // Two cubes sharing a face (3×2×2 voxels, 12 bits) must resolve the shared face alike. All 4096
    // configurations are tiled 64 × 64 in one volume, one empty voxel apart, and meshed at once.
    for (const axis of [0, 1, 2]) {
      const block: Dims = [2, 2, 2];
      block[axis] = 3;
      const tile: Dims = [block[0] + 1, block[1] + 1, block[2] + 1];
      const dims: Dims = [tile[0] * 64, tile[1] * 64, tile[2]];
      const mask = maskFrom(dims, (i, j, k) => {
        const [bi, bj] = [Math.floor(i / tile[0]), Math.floor(j / tile[1])];
        const [u, v, w] = [i % tile[0], j % tile[1], k % tile[2]];
        if (u >= block[0] || v >= block[1] || w >= block[2]) return false;
        const bit = u + block[0] * (v + block[1] * w);
        return (((bj * 64 + bi) >> bit) & 1) === 1;
      });
      expectClosedOutward(extractSurface(mask, axialGeometry(dims)), `axis ${axis}`);
    }
  });

  it('is closed and manifold on random noise masks of several densities', () => {
    for (const p of [0.2, 0.5, 0.8]) {
      for (let s = 1; s <= 20; s++) {
        const dims: Dims = [9, 8, 7];
        expectClosedOutward(extractSurface(noiseMask(dims, p, s * 7 + Math.round(p * 10)), axialGeometry(dims)), `p=${p} seed=${s}`);
      }
    }
  });

  it('is closed and manifold on random blobby masks that touch the volume border', () => {
    for (let s = 1; s <= 12; s++) {
      const dims: Dims = [24, 20, 16];
      const mask = blobbyMask(dims, 10, s);
      const mesh = extractSurface(mask, axialGeometry(dims));
      expect(mesh.indices.length).to.be.greaterThan(0);
      expectClosedOutward(mesh, `blobby seed ${s}`);
    }
  });

  it('closes thin structures: one-voxel lines along each axis and diagonals, and one-voxel sheets', () => {
    const dims: Dims = [12, 11, 10];
    const shapes: Record<string, (i: number, j: number, k: number) => boolean> = {
      'line x': (i, j, k) => j === 5 && k === 5,
      'line y': (i, j, k) => i === 3 && k === 2,
      'line z': (i, j) => i === 0 && j === 10,
      'face diagonal': (i, j, k) => i === j && k === 4,
      'body diagonal': (i, j, k) => i === j && j === k,
      'sheet xy': (i, j, k) => k === 3,
      'sheet diagonal': (i, j) => i === j,
      'two crossing sheets': (i, j, k) => i === 6 || k === 6,
    };
    for (const [name, f] of Object.entries(shapes)) expectClosedOutward(extractSurface(maskFrom(dims, f), axialGeometry(dims)), name);
  });

  it('keeps voxels touching only along an edge or at a corner as separate closed surfaces', () => {
    const dims: Dims = [4, 4, 4];
    const edge = extractSurface(maskFrom(dims, (i, j, k) => (i === 1 && j === 1 && k === 1) || (i === 2 && j === 2 && k === 1)), axialGeometry(dims));
    const corner = extractSurface(maskFrom(dims, (i, j, k) => (i === 1 && j === 1 && k === 1) || (i === 2 && j === 2 && k === 2)), axialGeometry(dims));
    for (const [name, mesh] of [['edge contact', edge], ['corner contact', corner]] as const) {
      expectClosedOutward(mesh, name);
      // Two octahedra (one per voxel): Euler characteristic 2 each, volume 1/6 mm³ each.
      expect(eulerCharacteristic(mesh), name).to.equal(4);
      expect(measureMesh(mesh).signedVolumeMm3, name).to.be.closeTo(2 / 6, 1e-9);
    }
  });

  it('closes a 3D checkerboard (every face ambiguous)', () => {
    const dims: Dims = [8, 8, 8];
    const mask = maskFrom(dims, (i, j, k) => ((i + j + k) & 1) === 1);
    const mesh = extractSurface(mask, axialGeometry(dims));
    expectClosedOutward(mesh, 'checkerboard');
    expect(eulerCharacteristic(mesh)).to.equal(2 * countInside(mask));
  });

  it('closes a mask that fills the whole volume, at every border', () => {
    const dims: Dims = [5, 4, 3];
    const mesh = extractSurface(new Uint8Array(60).fill(1), axialGeometry(dims));
    expectClosedOutward(mesh, 'full');
    expect(eulerCharacteristic(mesh)).to.equal(2);
  });

  it('gives a sphere genus 0 and a ring genus 1', () => {
    const dims: Dims = [30, 30, 14];
    const sphere = extractSurface(ballMask(dims, 6), axialGeometry(dims));
    const ring = extractSurface(
      maskFrom(dims, (i, j, k) => Math.hypot(Math.hypot(i - 14.5, j - 14.5) - 9, k - 6.5) <= 3),
      axialGeometry(dims),
    );
    expectClosedOutward(sphere, 'sphere');
    expectClosedOutward(ring, 'ring');
    expect(eulerCharacteristic(sphere)).to.equal(2);
    expect(eulerCharacteristic(ring)).to.equal(0);
  });

  it('returns an empty mesh for an empty mask', () => {
    const mesh = extractSurface(new Uint8Array(27), axialGeometry([3, 3, 3]));
    expect(mesh.positions.length).to.equal(0);
    expect(mesh.indices.length).to.equal(0);
  });

  it('selects voxels by label value or by predicate', () => {
    const dims: Dims = [10, 10, 10];
    const mask = maskFrom(dims, (i) => (i < 3 ? 1 : i < 6 ? 2 : i < 8 ? 7 : 0));
    const g = axialGeometry(dims);
    const volume = (sel?: number | ((v: number) => boolean)): number => measureMesh(extractSurface(mask, g, sel)).signedVolumeMm3;
    expect(volume(2)).to.be.lessThan(volume((v) => v === 1 || v === 2));
    expect(volume(7)).to.be.closeTo(volume((v) => v === 7), 1e-9);
    expect(volume()).to.be.closeTo(volume((v) => v !== 0), 1e-9);
    expect(volume(3)).to.equal(0);
  });

  it('places vertices in patient LPS millimetres from position, orientation and spacing', () => {
    // An oblique grid: rows along (cos30, sin30, 0), columns along (-sin30, cos30, 0), slices along +z.
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const geometry: VolumeGeometry = {
      dims: [5, 4, 3],
      spacing: [0.5, 0.8, 2.5],
      origin: [-120.5, 33.25, -400],
      rowDirection: [c, s, 0],
      columnDirection: [-s, c, 0],
      sliceDirection: [0, 0, 1],
    };
    const mask = new Uint8Array(60);
    const [i, j, k] = [3, 1, 2];
    mask[(k * 4 + j) * 5 + i] = 1;
    const mesh = extractSurface(mask, geometry);
    const expected = [
      -120.5 + i * 0.5 * c + j * 0.8 * -s,
      33.25 + i * 0.5 * s + j * 0.8 * c,
      -400 + k * 2.5,
    ];
    const n = mesh.positions.length / 3;
    expect(n).to.equal(6);
    for (let axis = 0; axis < 3; axis++) {
      let sum = 0;
      for (let v = 0; v < n; v++) sum += mesh.positions[v * 3 + axis];
      expect(sum / n, `axis ${axis}`).to.be.closeTo(expected[axis], 1e-3);
    }
    // The octahedron's vertices sit half a voxel step from the centre along each grid axis.
    const extent = Math.max(...Array.from({ length: n }, (_, v) => Math.abs(mesh.positions[v * 3 + 2] - expected[2])));
    expect(extent).to.be.closeTo(1.25, 1e-4);
    expectClosedOutward(mesh, 'oblique single voxel');
  });

  it('keeps normals outward when the slices run against row × column (left-handed grid)', () => {
    const dims: Dims = [12, 12, 12];
    const mask = blobbyMask(dims, 5, 3);
    const right = extractSurface(mask, axialGeometry(dims));
    const left = extractSurface(mask, { ...axialGeometry(dims), sliceDirection: [0, 0, -1] });
    expectClosedOutward(left, 'left-handed');
    expect(measureMesh(left).signedVolumeMm3).to.be.closeTo(measureMesh(right).signedVolumeMm3, 1e-6);
  });

  it('rejects a mask of the wrong size and unusable geometry with coded errors', () => {
    const g = axialGeometry([3, 3, 3]);
    const expectCode = (f: () => unknown, code: string, path: string): void => {
      try {
        f();
        expect.fail('should have thrown');
      } catch (err) {
        expect(isMeshError(err, code as never), String(err)).to.equal(true);
        expect((err as { path?: string }).path).to.equal(path);
      }
    };
    expectCode(() => extractSurface(new Uint8Array(26), g), 'invalid-input', 'mask');
    expectCode(() => extractSurface(new Uint8Array(27), { ...g, spacing: [1, 0, 1] }), 'invalid-input', 'spacing');
    expectCode(() => extractSurface(new Uint8Array(27), { ...g, columnDirection: [1, 0, 0] }), 'invalid-geometry', 'columnDirection');
    expectCode(() => extractSurface(new Uint8Array(27), { ...g, sliceDirection: [1, 0, 0] }), 'invalid-geometry', 'sliceDirection');
    expectCode(() => extractSurface(new Uint8Array(27), g, 300), 'invalid-input', 'inside');
  });

  it('handles rows whose length is not a multiple of four and unaligned masks alike', () => {
    const dims: Dims = [13, 7, 6];
    const mask = blobbyMask(dims, 6, 11);
    const shifted = new Uint8Array(mask.length + 1).subarray(1);
    shifted.set(mask);
    const a = extractSurface(mask, axialGeometry(dims));
    const b = extractSurface(shifted, axialGeometry(dims));
    expectClosedOutward(a, 'odd columns');
    expect(Array.from(b.indices)).to.deep.equal(Array.from(a.indices));
    expect(Array.from(b.positions)).to.deep.equal(Array.from(a.positions));
  });

  it('finds surfaces across 32-column word boundaries (wide rows)', () => {
    const dims: Dims = [100, 3, 3];
    // Single voxels at columns that straddle packed-word boundaries.
    const cols = [0, 30, 31, 32, 62, 63, 64, 95, 99];
    const mask = maskFrom(dims, (i, j, k) => j === 1 && k === 1 && cols.includes(i));
    const mesh = extractSurface(mask, axialGeometry(dims));
    expectClosedOutward(mesh, 'word boundaries');
    // 30/31/32 and 62/63/64 are runs of three; the others single voxels: 5 components.
    expect(eulerCharacteristic(mesh)).to.equal(2 * 5);
    expect(measureMesh(mesh).signedVolumeMm3).to.be.greaterThan(0);
  });
});
