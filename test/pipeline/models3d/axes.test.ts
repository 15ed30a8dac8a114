import { expect } from 'chai';
import { LPS_TO_GLTF_ROTATION, lpsToGltfDirections, lpsToGltfPositions } from '../../../pipeline/models3d/index.js';

describe('pipeline/models3d LPS → glTF axes', () => {
  it('is a proper rotation (determinant +1), so windings and outward normals survive', () => {
    const m = LPS_TO_GLTF_ROTATION;
    const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
    expect(det).to.equal(1);
    // Orthonormal: M · Mᵀ = I.
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
      const dot = m[r * 3] * m[c * 3] + m[r * 3 + 1] * m[c * 3 + 1] + m[r * 3 + 2] * m[c * 3 + 2];
      expect(dot).to.equal(r === c ? 1 : 0);
    }
  });

  it('maps patient left → +x, superior → +y (up), anterior → +z, millimetres → metres', () => {
    const lps = new Float32Array([1000, 0, 0, 0, 0, 1000, 0, -1000, 0]); // left, superior, anterior (−P)
    expect(Array.from(lpsToGltfPositions(lps))).to.deep.equal([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(Array.from(lpsToGltfDirections(new Float32Array([0, 1, 0])))).to.deep.equal([0, 0, -1]);
  });

  it('applies the same rotation the matrix states', () => {
    const v = new Float32Array([12.5, -40.25, 300.75]);
    const p = lpsToGltfDirections(v);
    const m = LPS_TO_GLTF_ROTATION;
    for (let r = 0; r < 3; r++) expect(p[r]).to.equal(Math.fround(m[r * 3] * v[0] + m[r * 3 + 1] * v[1] + m[r * 3 + 2] * v[2]));
  });
});
