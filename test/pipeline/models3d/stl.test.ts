import { expect } from 'chai';
import { decodeStl, encodeStl, encodeStlCombined, stlFileName, type ModelSegment } from '../../../pipeline/models3d/index.js';
import { sampleSegments } from './fixtures.js';

/** Signed volume of a triangle soup (9 floats per facet). */
function soupVolume(v: Float32Array): number {
  let six = 0;
  for (let f = 0; f < v.length; f += 9) {
    six += v[f] * (v[f + 4] * v[f + 8] - v[f + 5] * v[f + 7]) - v[f + 1] * (v[f + 3] * v[f + 8] - v[f + 5] * v[f + 6]) + v[f + 2] * (v[f + 3] * v[f + 7] - v[f + 4] * v[f + 6]);
  }
  return six / 6;
}

describe('pipeline/models3d STL', () => {
  let segments: ModelSegment[];
  before(async () => {
    segments = await sampleSegments();
  });

  it('writes binary STL in patient LPS millimetres, facets outward with unit normals', () => {
    const { mesh, volumeMl } = segments[0];
    const bytes = encodeStl(mesh);
    expect(bytes.length).to.equal(84 + 50 * (mesh.indices.length / 3));
    const { header, normals, vertices } = decodeStl(bytes);
    expect(header.toLowerCase().startsWith('solid')).to.equal(false);
    expect(header).to.match(/mm/);
    // Vertices are the mesh's own LPS coordinates, facet by facet.
    for (let f = 0; f < mesh.indices.length / 3; f += 37) {
      for (let c = 0; c < 3; c++) {
        for (let a = 0; a < 3; a++) expect(vertices[f * 9 + c * 3 + a]).to.equal(mesh.positions[mesh.indices[f * 3 + c] * 3 + a]);
      }
    }
    expect(soupVolume(vertices) / 1000).to.be.closeTo(volumeMl, volumeMl * 1e-4);
    for (let f = 0; f < normals.length / 3; f++) {
      const n = [normals[f * 3], normals[f * 3 + 1], normals[f * 3 + 2]];
      expect(Math.hypot(n[0], n[1], n[2])).to.be.closeTo(1, 1e-5);
      // The stored normal agrees with the right-hand winding of the facet.
      const v = vertices.subarray(f * 9, f * 9 + 9);
      const u = [v[3] - v[0], v[4] - v[1], v[5] - v[2]];
      const w = [v[6] - v[0], v[7] - v[1], v[8] - v[2]];
      const cross = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
      expect(cross[0] * n[0] + cross[1] * n[1] + cross[2] * n[2]).to.be.greaterThan(0);
    }
  });

  it('never starts the header with "solid", even if asked to', () => {
    expect(decodeStl(encodeStl(segments[1].mesh, 'solid bone')).header.startsWith('solid')).to.equal(false);
  });

  it('combines several segments into one file', () => {
    const combined = decodeStl(encodeStlCombined(segments.map((s) => s.mesh)));
    const facets = segments.reduce((n, s) => n + s.mesh.indices.length / 3, 0);
    expect(combined.normals.length / 3).to.equal(facets);
    const total = segments.reduce((v, s) => v + s.volumeMl, 0);
    expect(soupVolume(combined.vertices) / 1000).to.be.closeTo(total, total * 1e-4);
  });

  it('names files by segment number and a portable label', () => {
    expect(stlFileName(1, 'Bone')).to.equal('01-bone.stl');
    expect(stlFileName(12, 'Left  femur (head)/neck')).to.equal('12-left-femur-head-neck.stl');
    expect(stlFileName(3, 'Ödem')).to.equal('03-odem.stl');
    expect(stlFileName(4, '***')).to.equal('04-segment.stl');
  });

});
