import { expect } from 'chai';
import { checkManifold, measureMesh, meshSegment } from '../../../pipeline/mesh/index.js';
import { axialGeometry, maskFrom, type Dims } from './masks.js';

describe('pipeline/mesh meshSegment', () => {
  const dims: Dims = [40, 36, 24];
  // Label 1: a thick-walled tube along z leaving the volume at both ends; label 2: a ball inside it.
  const mask = maskFrom(dims, (i, j, k) => {
    const r = Math.hypot(i - 19.5, j - 17.5);
    if (r >= 10 && r <= 15) return 1;
    if (Math.hypot(i - 19.5, j - 17.5, k - 11.5) <= 6) return 2;
    return 0;
  });
  const geometry = { ...axialGeometry(dims, [0.8, 0.8, 1.25], [-16, -14, -900]) };

  it('extracts, smooths and decimates each segment to a closed, outward, measured mesh', async () => {
    const tube = await meshSegment(mask, geometry, 1, { decimation: { targetRatio: 0.2 } });
    const ball = await meshSegment(mask, geometry, 2);
    for (const [name, s] of [['tube', tube], ['ball', ball]] as const) {
      expect(checkManifold(s.mesh).closedManifold, name).to.equal(true);
      expect(s.mesh.indices.length / 3, name).to.be.lessThan(s.extractedTriangles / 2);
      expect(s.volumeMl, name).to.be.closeTo(measureMesh(s.mesh).signedVolumeMm3 / 1000, 1e-9);
      expect(s.normals.length, name).to.equal(s.mesh.positions.length);
      expect(s.timings.extractMs, name).to.be.at.least(0);
      expect(s.decimation, name).to.not.equal(null);
    }
    // Analytic volumes (mm³ → mL): the tube is cut by the volume's ends (24 slices × 1.25 mm).
    const tubeMl = (Math.PI * ((15 * 0.8) ** 2 - (10 * 0.8) ** 2) * 24 * 1.25) / 1000;
    expect(tube.volumeMl).to.be.closeTo(tubeMl, tubeMl * 0.05);
    const ballMl = ((4 / 3) * Math.PI * 6 * 0.8 * 6 * 0.8 * 6 * 1.25) / 1000;
    expect(ball.volumeMl).to.be.closeTo(ballMl, ballMl * 0.08);
  });

  it('normals point away from the enclosed volume', async () => {
    const ball = await meshSegment(mask, geometry, 2, { decimation: false });
    const n = ball.mesh.positions.length / 3;
    const c = [0, 1, 2].map((a) => {
      let s = 0;
      for (let v = 0; v < n; v++) s += ball.mesh.positions[v * 3 + a];
      return s / n;
    });
    let outward = 0;
    for (let v = 0; v < n; v++) {
      let d = 0;
      for (let a = 0; a < 3; a++) d += (ball.mesh.positions[v * 3 + a] - c[a]) * ball.normals[v * 3 + a];
      if (d > 0) outward++;
    }
    expect(outward).to.equal(n);
    expect(ball.decimation).to.equal(null);
  });

  it('returns an empty mesh and zero volume for a label with no voxels', async () => {
    const none = await meshSegment(mask, geometry, 9);
    expect(none.mesh.indices.length).to.equal(0);
    expect(none.volumeMl).to.equal(0);
    expect(none.decimation).to.equal(null);
  });
});
