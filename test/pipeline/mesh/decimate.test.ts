import { expect } from 'chai';
import {
  checkManifold,
  compactMesh,
  decimateMesh,
  extractSurface,
  isMeshError,
  measureMesh,
  removeFins,
  smoothMesh,
  splitPinchedVertices,
  type TriangleMesh,
} from '../../../pipeline/mesh/index.js';
import { axialGeometry, blobbyMask, maskFrom, type Dims } from './masks.js';

const R = 12;
const dims: Dims = [30, 30, 30];
const centre = 14.5;
const sphere = smoothMesh(extractSurface(maskFrom(dims, (i, j, k) => Math.hypot(i - centre, j - centre, k - centre) <= R), axialGeometry(dims)));

function maxDistanceFromSphere(mesh: TriangleMesh): number {
  let worst = 0;
  for (let v = 0; v < mesh.positions.length / 3; v++) {
    const d = Math.hypot(mesh.positions[v * 3] - centre, mesh.positions[v * 3 + 1] - centre, mesh.positions[v * 3 + 2] - centre) - R;
    worst = Math.max(worst, Math.abs(d));
  }
  return worst;
}

describe('pipeline/mesh decimateMesh', () => {
  it('reaches the target ratio, stays closed and manifold, and keeps volume and shape', async () => {
    const triangles = sphere.indices.length / 3;
    const result = await decimateMesh(sphere, { targetRatio: 0.1 });
    const kept = result.mesh.indices.length / 3;
    expect(kept).to.be.within(0.08 * triangles, 0.1 * triangles + 2);
    expect(checkManifold(result.mesh).closedManifold).to.equal(true);
    expect(checkManifold(result.mesh).unusedVertices).to.equal(0);
    const v0 = measureMesh(sphere).signedVolumeMm3;
    expect(Math.abs(measureMesh(result.mesh).signedVolumeMm3 - v0) / v0).to.be.lessThan(0.02);
    expect(maxDistanceFromSphere(result.mesh)).to.be.lessThan(0.5);
    expect(result.errorMm).to.be.greaterThan(0).and.lessThan(0.5);
  });

  it('honours an absolute triangle target and keeps the original vertices when asked', async () => {
    const result = await decimateMesh(sphere, { targetTriangles: 500, updatePositions: false });
    expect(result.mesh.indices.length / 3).to.be.within(400, 500);
    expect(checkManifold(result.mesh).closedManifold).to.equal(true);
    // Every kept vertex is one of the input vertices.
    const original = new Set<string>();
    for (let v = 0; v < sphere.positions.length / 3; v++) original.add(Array.from(sphere.positions.subarray(v * 3, v * 3 + 3)).join(','));
    for (let v = 0; v < result.mesh.positions.length / 3; v++) expect(original.has(Array.from(result.mesh.positions.subarray(v * 3, v * 3 + 3)).join(','))).to.equal(true);
  });

  it('stops early at the error bound', async () => {
    const result = await decimateMesh(sphere, { targetRatio: 0.01, maxErrorMm: 0.02 });
    expect(result.errorMm).to.be.at.most(0.02);
    expect(result.mesh.indices.length / 3).to.be.greaterThan(0.01 * (sphere.indices.length / 3));
  });

  it('keeps blobby shapes with thin parts closed and manifold even when decimated hard', async function () {
    this.timeout(60000);
    const repairs: string[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const d: Dims = [28, 24, 20];
      const mesh = smoothMesh(extractSurface(blobbyMask(d, 16, seed), axialGeometry(d)));
      const result = await decimateMesh(mesh, { targetRatio: 0.03 });
      expect(checkManifold(result.mesh).closedManifold, `seed ${seed}`).to.equal(true);
      expect(measureMesh(result.mesh).signedVolumeMm3, `seed ${seed}`).to.be.greaterThan(0);
      repairs.push(result.repair);
    }
    expect(repairs).to.not.include('kept-original');
  });

  it('returns the input unchanged when it is already at or below the target', async () => {
    const result = await decimateMesh(sphere, { targetTriangles: sphere.indices.length / 3 });
    expect(result.mesh).to.equal(sphere);
    expect(result.attempts).to.equal(0);
  });

  it('falls back to the undecimated input when no closed manifold can be reached (input with a hole)', async () => {
    const holed = compactMesh(sphere.positions, sphere.indices.slice(3));
    expect(checkManifold(holed).unmatchedHalfEdges).to.equal(3);
    const result = await decimateMesh(holed, { targetRatio: 0.1 });
    expect(result.repair).to.equal('kept-original');
    expect(result.mesh).to.equal(holed);
    expect(result.attempts).to.be.greaterThan(1);
  });

  it('rejects bad targets with coded errors', async () => {
    for (const bad of [{ targetRatio: 0 }, { targetRatio: 1.5 }, { targetTriangles: 2 }, { maxErrorMm: -1 }]) {
      try {
        await decimateMesh(sphere, bad);
        expect.fail(`accepted ${JSON.stringify(bad)}`);
      } catch (err) {
        expect(isMeshError(err, 'invalid-input'), String(err)).to.equal(true);
      }
    }
  });
});

describe('pipeline/mesh splitPinchedVertices', () => {
  it('gives each fan of a pinched vertex its own copy, leaving a closed manifold of the same volume', () => {
    // Two spheres glued at one vertex (the top of one is the bottom of the other).
    const n = sphere.positions.length / 3;
    const z = (v: number): number => sphere.positions[v * 3 + 2];
    let top = 0;
    let bottom = 0;
    for (let v = 1; v < n; v++) {
      if (z(v) > z(top)) top = v;
      if (z(v) < z(bottom)) bottom = v;
    }
    const shift = [0, 1, 2].map((a) => sphere.positions[top * 3 + a] - sphere.positions[bottom * 3 + a]);
    const positions = new Float32Array(n * 6);
    positions.set(sphere.positions);
    for (let i = 0; i < n * 3; i++) positions[n * 3 + i] = sphere.positions[i] + shift[i % 3];
    const indices = new Uint32Array(sphere.indices.length * 2);
    indices.set(sphere.indices);
    for (let i = 0; i < sphere.indices.length; i++) indices[sphere.indices.length + i] = sphere.indices[i] === bottom ? top : sphere.indices[i] + n;
    const pinched = compactMesh(positions, indices);
    expect(checkManifold(pinched).nonManifoldVertices).to.equal(1);
    const { mesh, added } = splitPinchedVertices(pinched);
    expect(added).to.equal(1);
    expect(checkManifold(mesh).closedManifold).to.equal(true);
    expect(measureMesh(mesh).signedVolumeMm3).to.be.closeTo(2 * measureMesh(sphere).signedVolumeMm3, 1e-3);
    expect(splitPinchedVertices(sphere).added).to.equal(0);
  });
});

describe('pipeline/mesh removeFins', () => {
  // A tetrahedron, outward, with a fin (two back-to-back triangles) hinged on edge 0–1.
  const positions = new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0.5, -1, 0.5]);
  const tetra = [0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3];

  it('removes back-to-back triangle pairs and degenerate triangles, restoring a manifold', () => {
    const withFin = new Uint32Array([...tetra, 0, 1, 4, 1, 0, 4, 2, 2, 3]);
    expect(checkManifold({ positions, indices: withFin }).closedManifold).to.equal(false);
    const { indices, removed } = removeFins(withFin, 5);
    expect(removed).to.equal(3);
    expect(Array.from(indices)).to.deep.equal(tetra);
    const compact = compactMesh(positions, indices);
    expect(compact.positions.length).to.equal(12);
    expect(checkManifold(compact).closedManifold).to.equal(true);
    expect(measureMesh(compact).signedVolumeMm3).to.be.closeTo(1 / 6, 1e-7);
  });

  it('leaves duplicate triangles of the same orientation for the manifold check to report', () => {
    const twice = new Uint32Array([...tetra, 0, 2, 1]);
    expect(removeFins(twice, 5).removed).to.equal(0);
    expect(checkManifold({ positions, indices: twice }).duplicateHalfEdges).to.be.greaterThan(0);
  });
});
