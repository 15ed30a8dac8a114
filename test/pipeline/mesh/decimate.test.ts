import { expect } from 'chai';
import {
  checkManifold,
  compactMesh,
  decimateMesh,
  defectiveVertices,
  extractSurface,
  isMeshError,
  measureMesh,
  prepareDecimation,
  removeFins,
  smoothMesh,
  splitPinchedVertices,
  type TriangleMesh,
} from '../../../pipeline/mesh/index.js';
import { uvSphere } from '../../../pipeline/mesh/uv-sphere.js';
import { axialGeometry, blobbyMask, maskFrom, random, type Dims } from './masks.js';

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

describe('pipeline/mesh decimator thread', () => {
  it("leaves the caller's arrays in place: the mesh is copied to the simplifier's thread, never handed over", async () => {
    const positions = sphere.positions.slice();
    const indices = sphere.indices.slice();
    const result = await decimateMesh({ positions, indices }, { targetRatio: 0.2 });
    expect(positions.length).to.equal(sphere.positions.length);
    expect(indices.length).to.equal(sphere.indices.length);
    expect(Array.from(positions)).to.deep.equal(Array.from(sphere.positions));
    expect(Array.from(indices)).to.deep.equal(Array.from(sphere.indices));
    expect(result.mesh.positions.buffer).to.not.equal(positions.buffer);
  });

  it('serves decimations running at the same time, each with its own result', async () => {
    const [a, b] = await Promise.all([decimateMesh(sphere, { targetTriangles: 600 }), decimateMesh(sphere, { targetTriangles: 300 })]);
    expect(a.mesh.indices.length / 3).to.be.within(500, 600);
    expect(b.mesh.indices.length / 3).to.be.within(250, 300);
  });

  it('warms up on a closed, outward sphere and resolves', async () => {
    const warmUp = uvSphere(48, 48);
    expect(warmUp.indices.length / 3).to.equal(2 * 48 * 47);
    expect(checkManifold(warmUp).closedManifold).to.equal(true);
    expect(measureMesh(warmUp).signedVolumeMm3).to.be.closeTo((4 / 3) * Math.PI, 0.02);
    await prepareDecimation();
  });
});

describe('pipeline/mesh compactMesh', () => {
  it('numbers the used vertices in order of first use and copies only them', () => {
    const positions = Float32Array.from({ length: 8 * 3 }, (_, i) => i);
    const { positions: p, indices } = compactMesh(positions, new Uint32Array([5, 2, 7, 2, 5, 0]));
    expect(Array.from(indices)).to.deep.equal([0, 1, 2, 1, 0, 3]);
    expect(Array.from(p)).to.deep.equal([15, 16, 17, 6, 7, 8, 21, 22, 23, 0, 1, 2]);
  });
});

describe('pipeline/mesh checkManifold', () => {
  /** Directed-edge counts, the independent way: a map over every half-edge of every triangle. */
  function halfEdgeCounts(indices: Uint32Array): { unmatched: number; duplicate: number } {
    const count = new Map<string, number>();
    for (let t = 0; t < indices.length; t += 3) {
      for (let j = 0; j < 3; j++) {
        const key = `${indices[t + j]}>${indices[t + ((j + 1) % 3)]}`;
        count.set(key, (count.get(key) ?? 0) + 1);
      }
    }
    let unmatched = 0;
    let duplicate = 0;
    for (const [key, m] of count) {
      const [a, b] = key.split('>');
      if (!count.has(`${b}>${a}`)) unmatched += m;
      if (m > 1) duplicate += m;
    }
    return { unmatched, duplicate };
  }

  it('counts unmatched and duplicate half-edges as a half-edge map does, on random triangle soups', () => {
    const r = random(17);
    for (let trial = 0; trial < 200; trial++) {
      const vertices = 4 + Math.floor(r() * 10);
      const indices = new Uint32Array(3 * (1 + Math.floor(r() * 25)));
      // Distinct corners, so the half-edge map and the per-vertex rows see the same edges.
      for (let t = 0; t < indices.length; t += 3) {
        do {
          for (let j = 0; j < 3; j++) indices[t + j] = Math.floor(r() * vertices);
        } while (indices[t] === indices[t + 1] || indices[t + 1] === indices[t + 2] || indices[t] === indices[t + 2]);
      }
      const report = checkManifold({ positions: new Float32Array(vertices * 3), indices });
      const expected = halfEdgeCounts(indices);
      expect(report.unmatchedHalfEdges, `trial ${trial}`).to.equal(expected.unmatched);
      expect(report.duplicateHalfEdges, `trial ${trial}`).to.equal(expected.duplicate);
    }
  });

  it('finds the vertex where two closed surfaces touch, and nothing on each alone', () => {
    // Two outward tetrahedra sharing vertex 0 only: every edge is fine, vertex 0 has two fans.
    const positions = new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, -1, 0, 0, 0, -1, 0, 0, 0, -1]);
    const first = [0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3];
    const second = [0, 4, 5, 0, 6, 4, 0, 5, 6, 4, 6, 5];
    for (const alone of [first, second]) {
      expect(checkManifold({ positions, indices: new Uint32Array(alone) }).closedManifold).to.equal(true);
      expect(measureMesh({ positions, indices: new Uint32Array(alone) }).signedVolumeMm3).to.be.closeTo(1 / 6, 1e-7);
    }
    const both = checkManifold({ positions, indices: new Uint32Array([...first, ...second]) });
    expect(both).to.include({ unmatchedHalfEdges: 0, duplicateHalfEdges: 0, nonManifoldVertices: 1, closedManifold: false });
    expect(Array.from(defectiveVertices({ positions, indices: new Uint32Array([...first, ...second]) }))).to.deep.equal([0]);
  });
});
