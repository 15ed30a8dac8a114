import { expect } from 'chai';
import { axisAssignment, modelGrid, nearestModelIndex, sourceCoordinate } from '../../../pipeline/segment/grid.js';
import { normalizationTable } from '../../../pipeline/segment/normalize.js';
import { fillPatch, labelsToCtGrid, tensorAxes } from '../../../pipeline/segment/resample.js';
import type { VolumeGeometry } from '../../../pipeline/volume/types.js';

type Vec3 = [number, number, number];

const axial = (dims: Vec3, spacing: Vec3): VolumeGeometry => ({
  dims,
  spacing,
  origin: [0, 0, 0],
  rowDirection: [1, 0, 0],
  columnDirection: [0, 1, 0],
  sliceDirection: [0, 0, 1],
});

/** HU = a·x + b·y + c·z + d: trilinear interpolation must reproduce it exactly inside the grid. */
function rampVolume(dims: Vec3, [a, b, c, d]: number[]): Int16Array {
  const hu = new Int16Array(dims[0] * dims[1] * dims[2]);
  for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++) {
    hu[x + dims[0] * (y + dims[1] * z)] = a * x + b * y + c * z + d;
  }
  return hu;
}

const identityWindow = { kind: 'window', min: -32768, max: 32767, scale: 1 } as const;

describe('pipeline/segment resampling', () => {
  it('shares the first voxel centre and spans the CT: 3 mm → 1.5 mm doubles every axis but the last voxel', () => {
    const g = modelGrid(axial([101, 122, 112], [3, 3, 3]), [1.5, 1.5, 1.5]);
    expect(g.dims).to.deep.equal([201, 243, 223]);
    expect(g.spacing).to.deep.equal([1.5, 1.5, 1.5]);
    expect(sourceCoordinate(g.axes[0], 200)).to.equal(100);
    // Every CT voxel falls on a model voxel, so nearest neighbour brings labels back unshifted.
    for (let j = 0; j < 101; j++) expect(sourceCoordinate(g.axes[0], nearestModelIndex(g.axes[0], j, 201))).to.equal(j);
  });

  it('covers a CT whose extent is not a multiple of the model spacing (the last sample clamps)', () => {
    const g = modelGrid(axial([10, 10, 10], [0.7, 0.7, 1]), [1.5, 1.5, 1.5]);
    // 9 × 0.7 mm = 6.3 mm → 5 model steps of 1.5 mm (the fifth at 7.5 mm clamps to the last voxel).
    expect(g.dims).to.deep.equal([6, 6, 7]);
    expect(sourceCoordinate(g.axes[0], 5)).to.equal(9);
  });

  it('maps an orientation by the CT axes nearest to it, flipping where they run opposite', () => {
    const lps = axial([4, 5, 6], [1, 1, 1]);
    expect(axisAssignment(lps, 'RAS')).to.deep.equal([
      { source: 0, flip: true },
      { source: 1, flip: true },
      { source: 2, flip: false },
    ]);
    // A sagittal acquisition: column index runs to P, row index to I, slices to R.
    const sagittal: VolumeGeometry = { ...lps, rowDirection: [0, 1, 0], columnDirection: [0, 0, -1], sliceDirection: [-1, 0, 0] };
    expect(axisAssignment(sagittal, 'LPS')).to.deep.equal([
      { source: 2, flip: true },
      { source: 0, flip: false },
      { source: 1, flip: true },
    ]);
    expect(axisAssignment(sagittal)).to.deep.equal([0, 1, 2].map((a) => ({ source: a, flip: false })));
  });

  it('interpolates a linear ramp exactly (trilinear), in any tensor order', () => {
    const dims: Vec3 = [9, 8, 7];
    const hu = rampVolume(dims, [3, -5, 7, 100]);
    const g = modelGrid(axial(dims, [2, 2, 2]), [1, 1.5, 0.5]);
    const table = normalizationTable({ kind: 'window', min: -1000, max: 1000, scale: 1 });
    const box = { start: [2, 1, 3] as const, size: [5, 4, 6] as const };
    for (const order of ['zyx', 'xyz', 'yzx']) {
      const axes = tensorAxes(order);
      const out = new Float32Array(5 * 4 * 6);
      fillPatch(hu, dims, g, box, axes, table, out);
      const size = axes.map((m) => box.size[m]);
      for (let a = 0; a < size[0]; a++) for (let b = 0; b < size[1]; b++) for (let c = 0; c < size[2]; c++) {
        const k: number[] = [0, 0, 0];
        k[axes[0]] = a;
        k[axes[1]] = b;
        k[axes[2]] = c;
        const [cx, cy, cz] = [0, 1, 2].map((m) => sourceCoordinate(g.axes[m], box.start[m] + k[m]));
        const expected = 3 * cx - 5 * cy + 7 * cz + 100 + 1000;
        expect(out[(a * size[1] + b) * size[2] + c], `${order} ${k}`).to.be.closeTo(expected, 1e-3);
      }
    }
  });

  it('normalises through the window and the z-score with clipping', () => {
    const w = normalizationTable({ kind: 'window', min: -1024, max: 3071, scale: 0.001 });
    expect(w[-2000 + 32768]).to.equal(0);
    expect(w[0 + 32768]).to.be.closeTo(1.024, 1e-6);
    expect(w[4000 + 32768]).to.be.closeTo(4.095, 1e-6);
    const z = normalizationTable({ kind: 'zscore', mean: 100, std: 50, clip: [-500, 1500] });
    expect(z[200 + 32768]).to.equal(2);
    expect(z[-3000 + 32768]).to.equal(-12);
  });

  it('pads beyond the grid with 0', () => {
    const dims: Vec3 = [4, 4, 4];
    const hu = new Int16Array(64).fill(500);
    const g = modelGrid(axial(dims, [1, 1, 1]), null);
    const out = new Float32Array(6 * 6 * 6);
    fillPatch(hu, dims, g, { start: [0, 0, 0], size: [6, 6, 6] }, tensorAxes('zyx'), normalizationTable(identityWindow), out);
    expect(out[0]).to.equal(500 + 32768);
    expect(out[5]).to.equal(0);
    expect(out[5 * 36]).to.equal(0);
  });

  it('returns labels to the CT grid through flips and permutations unchanged when spacings agree', () => {
    const dims: Vec3 = [5, 6, 7];
    const geometry: VolumeGeometry = { ...axial(dims, [1, 1, 1]), rowDirection: [0, 1, 0], columnDirection: [0, 0, -1], sliceDirection: [-1, 0, 0] };
    const g = modelGrid(geometry, null, 'RAS');
    const n = 5 * 6 * 7;
    // Give each model voxel the id of the CT voxel it samples, then map back: identity expected.
    const modelLabels = new Uint8Array(n);
    const ctLabels = new Uint8Array(n).map((_, i) => (i * 7) % 251);
    for (let z = 0; z < g.dims[2]; z++) for (let y = 0; y < g.dims[1]; y++) for (let x = 0; x < g.dims[0]; x++) {
      const c: number[] = [0, 0, 0];
      [x, y, z].forEach((i, m) => (c[g.axes[m].source] = sourceCoordinate(g.axes[m], i)));
      modelLabels[x + g.dims[0] * (y + g.dims[1] * z)] = ctLabels[c[0] + dims[0] * (c[1] + dims[1] * c[2])];
    }
    expect([...labelsToCtGrid(modelLabels, g, dims)]).to.deep.equal([...ctLabels]);
  });
});
