import { expect } from 'chai';
import {
  checkManifold,
  extractSurface,
  isMeshError,
  measureMesh,
  smoothMesh,
  windowedSincResponse,
  windowedSincWeights,
  type TriangleMesh,
} from '../../../pipeline/mesh/index.js';
import { axialGeometry, blobbyMask, maskFrom, type Dims } from './masks.js';

const R = 10;
const dims: Dims = [26, 26, 26];
const centre = 12.5;
const sphere = extractSurface(
  maskFrom(dims, (i, j, k) => Math.hypot(i - centre, j - centre, k - centre) <= R),
  axialGeometry(dims),
);

/** Root-mean-square distance of the vertices from the true sphere. */
function rmsFromSphere(mesh: TriangleMesh): number {
  let s = 0;
  const n = mesh.positions.length / 3;
  for (let v = 0; v < n; v++) {
    const d = Math.hypot(mesh.positions[v * 3] - centre, mesh.positions[v * 3 + 1] - centre, mesh.positions[v * 3 + 2] - centre) - R;
    s += d * d;
  }
  return Math.sqrt(s / n);
}

describe('pipeline/mesh smoothMesh', () => {
  it('windowed sinc: flat pass band, f(0) = 1 exactly, stop band near 0', () => {
    for (const [n, kpb] of [
      [20, 0.1],
      [20, 0.05],
      [30, 0.02],
    ] as const) {
      const f = windowedSincWeights(n, kpb);
      expect(windowedSincResponse(f, 0), `f(0) n=${n}`).to.be.closeTo(1, 1e-12);
      for (const k of [kpb / 4, kpb / 2, kpb]) expect(windowedSincResponse(f, k), `f(${k}) n=${n}`).to.be.closeTo(1, 0.01);
      expect(Math.abs(windowedSincResponse(f, 0.5)), `f(0.5) n=${n}`).to.be.lessThan(0.15);
      for (const k of [1, 1.5, 2]) expect(Math.abs(windowedSincResponse(f, k)), `f(${k}) n=${n}`).to.be.lessThan(0.01);
    }
  });

  for (const options of [{ method: 'windowed-sinc' } as const, { method: 'taubin' } as const]) {
    it(`${options.method}: keeps the triangles, preserves volume and moves the surface towards the true sphere`, () => {
      const smoothed = smoothMesh(sphere, options);
      expect(smoothed.indices).to.equal(sphere.indices);
      expect(checkManifold(smoothed).closedManifold).to.equal(true);
      const before = measureMesh(sphere).signedVolumeMm3;
      const after = measureMesh(smoothed).signedVolumeMm3;
      expect(Math.abs(after - before) / before).to.be.lessThan(0.015);
      expect(rmsFromSphere(smoothed)).to.be.lessThan(rmsFromSphere(sphere) / 1.5);
    });
  }

  it('windowed sinc removes the stair-step area of a voxelized sphere', () => {
    const area = 4 * Math.PI * R * R;
    expect(measureMesh(sphere).areaMm2 / area).to.be.greaterThan(1.05);
    expect(Math.abs(measureMesh(smoothMesh(sphere)).areaMm2 / area - 1)).to.be.lessThan(0.02);
  });

  it('keeps thin blobby shapes from shrinking (volume within 3 %)', () => {
    const d: Dims = [30, 24, 20];
    const mesh = extractSurface(blobbyMask(d, 14, 5), axialGeometry(d));
    const before = measureMesh(mesh).signedVolumeMm3;
    const after = measureMesh(smoothMesh(mesh)).signedVolumeMm3;
    expect(Math.abs(after - before) / before).to.be.lessThan(0.03);
  });

  it('does not move a mesh far from the origin (patient coordinates)', () => {
    const far = { positions: sphere.positions.map((x, i) => x + [-400, 250, -1300][i % 3]), indices: sphere.indices };
    const a = smoothMesh(sphere).positions;
    const b = smoothMesh(far).positions;
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(b[i] - [-400, 250, -1300][i % 3] - a[i]));
    expect(worst).to.be.lessThan(1e-3);
  });

  it('leaves a vertex no triangle uses where it is', () => {
    const n = sphere.positions.length / 3;
    const positions = new Float32Array(sphere.positions.length + 3);
    positions.set(sphere.positions);
    positions.set([100, -200, 300], n * 3);
    for (const method of ['windowed-sinc', 'taubin'] as const) {
      const out = smoothMesh({ positions, indices: sphere.indices }, { method });
      expect(Array.from(out.positions.subarray(n * 3)), method).to.deep.equal([100, -200, 300]);
      const alone = smoothMesh(sphere, { method }).positions;
      let worst = 0;
      for (let i = 0; i < n * 3; i++) worst = Math.max(worst, Math.abs(out.positions[i] - alone[i]));
      expect(worst, `${method}: the other vertices move as without it`).to.be.lessThan(1e-4);
    }
  });

  it('method none copies the positions', () => {
    const out = smoothMesh(sphere, { method: 'none' });
    expect(Array.from(out.positions)).to.deep.equal(Array.from(sphere.positions));
  });

  it('rejects out-of-range parameters with coded errors', () => {
    for (const bad of [
      { method: 'windowed-sinc', passBand: 0 },
      { method: 'windowed-sinc', iterations: 0 },
      { method: 'taubin', lambda: 0.5, mu: -0.4 },
    ] as const) {
      expect(() => smoothMesh(sphere, bad)).to.throw().that.satisfies((e: unknown) => isMeshError(e, 'invalid-input'));
    }
  });
});
