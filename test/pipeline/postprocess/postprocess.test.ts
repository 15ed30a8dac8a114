import { expect } from 'chai';
import { fillHoles, fillHolesPerSlice, filterComponents, postprocessLabels, type SegmentRules } from '../../../pipeline/postprocess/index.js';
import { rng } from '../../support/random.js';

type Dims = [number, number, number];

const lut = (...ids: number[]): Uint8Array => {
  const t = new Uint8Array(256);
  for (const id of ids) t[id] = 1;
  return t;
};
const identity = (): Uint8Array => new Uint8Array(256).map((_, i) => i);
const idx = (d: Dims, x: number, y: number, z: number): number => x + d[0] * (y + d[1] * z);

/** Plain breadth-first labelling with a queue per component: the reference the scan-line code must match. */
function naiveComponents(inside: (i: number) => boolean, d: Dims): Int32Array {
  const n = d[0] * d[1] * d[2];
  const comp = new Int32Array(n).fill(-1);
  let next = 0;
  for (let s = 0; s < n; s++) {
    if (!inside(s) || comp[s] >= 0) continue;
    const queue = [s];
    comp[s] = next;
    while (queue.length > 0) {
      const i = queue.pop()!;
      const x = i % d[0];
      const y = Math.floor(i / d[0]) % d[1];
      const z = Math.floor(i / (d[0] * d[1]));
      const nbs: number[] = [];
      if (x > 0) nbs.push(i - 1);
      if (x < d[0] - 1) nbs.push(i + 1);
      if (y > 0) nbs.push(i - d[0]);
      if (y < d[1] - 1) nbs.push(i + d[0]);
      if (z > 0) nbs.push(i - d[0] * d[1]);
      if (z < d[2] - 1) nbs.push(i + d[0] * d[1]);
      for (const j of nbs) {
        if (inside(j) && comp[j] < 0) {
          comp[j] = next;
          queue.push(j);
        }
      }
    }
    next++;
  }
  return comp;
}

describe('pipeline/postprocess', () => {
  describe('filterComponents', () => {
    it('keeps only the largest 6-connected component; diagonal contact does not connect', () => {
      const d: Dims = [6, 6, 6];
      const labels = new Uint8Array(216);
      // A 2x2x2 cube (8 voxels) and a single voxel touching it only at a corner.
      for (const [x, y, z] of [[1, 1, 1], [2, 1, 1], [1, 2, 1], [2, 2, 1], [1, 1, 2], [2, 1, 2], [1, 2, 2], [2, 2, 2]]) labels[idx(d, x, y, z)] = 1;
      labels[idx(d, 3, 3, 3)] = 1;
      const r = filterComponents(labels, d, lut(1), identity().fill(0, 1, 2), { largestComponent: true, minVoxels: 0 });
      expect(r).to.deep.equal({ components: 2, removedComponents: 1, removedVoxels: 1, largestVoxels: 8 });
      expect(labels[idx(d, 3, 3, 3)]).to.equal(0);
      expect(labels.reduce((a, b) => a + b, 0)).to.equal(8);
    });

    it('agrees with a breadth-first reference on random volumes (sizes and what is dropped)', () => {
      const random = rng(7);
      for (let trial = 0; trial < 20; trial++) {
        const d: Dims = [5 + Math.floor(random() * 20), 5 + Math.floor(random() * 20), 3 + Math.floor(random() * 15)];
        const n = d[0] * d[1] * d[2];
        const density = 0.25 + random() * 0.35;
        const labels = new Uint8Array(n).map(() => (random() < density ? 1 + Math.floor(random() * 2) : 0));
        const original = labels.slice();
        const comp = naiveComponents((i) => original[i] === 1 || original[i] === 2, d);
        const sizes = new Map<number, number>();
        for (let i = 0; i < n; i++) if (comp[i] >= 0) sizes.set(comp[i], (sizes.get(comp[i]) ?? 0) + 1);
        const minVoxels = 1 + Math.floor(random() * 6);
        const r = filterComponents(labels, d, lut(1, 2), identity().fill(0, 1, 3), { largestComponent: false, minVoxels });
        expect(r.components, `trial ${trial}`).to.equal(sizes.size);
        for (let i = 0; i < n; i++) {
          const kept = comp[i] >= 0 && sizes.get(comp[i])! >= minVoxels;
          expect(labels[i], `trial ${trial} voxel ${i}`).to.equal(kept ? original[i] : 0);
        }
      }
    });

    it('hands removed voxels to the given replacement label', () => {
      const d: Dims = [5, 1, 1];
      const labels = Uint8Array.from([2, 2, 2, 0, 2]);
      const replacement = identity();
      replacement[2] = 1;
      filterComponents(labels, d, lut(2), replacement, { largestComponent: true, minVoxels: 0 });
      expect([...labels]).to.deep.equal([2, 2, 2, 0, 1]);
    });
  });

  describe('fillHoles', () => {
    it('fills a closed cavity and leaves a cavity open to the border', () => {
      const d: Dims = [9, 9, 9];
      const labels = new Uint8Array(729);
      // Hollow cube shell from 1..7; its inside 2..6 is a closed cavity.
      for (let z = 1; z <= 7; z++) for (let y = 1; y <= 7; y++) for (let x = 1; x <= 7; x++) {
        if (x === 1 || x === 7 || y === 1 || y === 7 || z === 1 || z === 7) labels[idx(d, x, y, z)] = 1;
      }
      const closed = labels.slice();
      const filled = fillHoles(closed, d, lut(1), lut(0), 1);
      expect(filled).to.equal(5 * 5 * 5);
      expect(closed[idx(d, 4, 4, 4)]).to.equal(1);
      // Punch one hole through the shell: the cavity now reaches the border and stays empty.
      const open = labels.slice();
      open[idx(d, 4, 4, 7)] = 0;
      expect(fillHoles(open, d, lut(1), lut(0), 1)).to.equal(0);
    });

    it('keeps voxels of other labels inside the cavity unless they are fillable', () => {
      const d: Dims = [5, 5, 5];
      const labels = new Uint8Array(125).fill(1);
      for (let x = 0; x < 5; x++) for (let y = 0; y < 5; y++) {
        labels[idx(d, x, y, 0)] = 0;
        labels[idx(d, x, y, 4)] = 0;
      }
      labels[idx(d, 2, 2, 2)] = 3; // another organ inside
      labels[idx(d, 2, 1, 2)] = 0; // background cavity inside
      const copy = labels.slice();
      expect(fillHoles(copy, d, lut(1), lut(0), 1)).to.equal(1);
      expect(copy[idx(d, 2, 2, 2)]).to.equal(3);
      expect(copy[idx(d, 2, 1, 2)]).to.equal(1);
      expect(fillHoles(labels, d, lut(1), lut(0, 3), 1)).to.equal(2);
    });

    it('per slice, fills a tube that is open at both ends of the volume', () => {
      const d: Dims = [7, 7, 4];
      const labels = new Uint8Array(7 * 7 * 4);
      for (let z = 0; z < 4; z++) for (let y = 1; y <= 5; y++) for (let x = 1; x <= 5; x++) {
        if (x === 1 || x === 5 || y === 1 || y === 5) labels[idx(d, x, y, z)] = 1;
      }
      const in3d = labels.slice();
      expect(fillHoles(in3d, d, lut(1), lut(0), 1)).to.equal(0);
      expect(fillHolesPerSlice(labels, d, lut(1), lut(0), 1)).to.equal(3 * 3 * 4);
      // The outside of the tube stays background.
      expect(labels[idx(d, 0, 0, 0)]).to.equal(0);
      expect(labels[idx(d, 6, 3, 2)]).to.equal(0);
    });

    it('matches a reference on random volumes: filled exactly where the border cannot reach', () => {
      const random = rng(11);
      for (let trial = 0; trial < 15; trial++) {
        const d: Dims = [4 + Math.floor(random() * 16), 4 + Math.floor(random() * 16), 4 + Math.floor(random() * 10)];
        const n = d[0] * d[1] * d[2];
        const labels = new Uint8Array(n).map(() => (random() < 0.55 ? 1 : 0));
        const original = labels.slice();
        const comp = naiveComponents((i) => original[i] === 0, d);
        const reached = new Set<number>();
        for (let i = 0; i < n; i++) {
          const x = i % d[0];
          const y = Math.floor(i / d[0]) % d[1];
          const z = Math.floor(i / (d[0] * d[1]));
          const border = x === 0 || y === 0 || z === 0 || x === d[0] - 1 || y === d[1] - 1 || z === d[2] - 1;
          if (border && comp[i] >= 0) reached.add(comp[i]);
        }
        fillHoles(labels, d, lut(1), lut(0), 1);
        for (let i = 0; i < n; i++) {
          const expected = original[i] === 1 || !reached.has(comp[i]) ? 1 : 0;
          expect(labels[i], `trial ${trial} voxel ${i}`).to.equal(expected);
        }
      }
    });
  });

  describe('fillHolesPerSlice', () => {
    it('matches a 2D reference slice by slice on random volumes', () => {
      const random = rng(13);
      for (let trial = 0; trial < 10; trial++) {
        const d: Dims = [4 + Math.floor(random() * 14), 4 + Math.floor(random() * 14), 1 + Math.floor(random() * 6)];
        const plane = d[0] * d[1];
        const labels = new Uint8Array(plane * d[2]).map(() => (random() < 0.5 ? 1 : 0));
        const original = labels.slice();
        fillHolesPerSlice(labels, d, lut(1), lut(0), 1);
        for (let z = 0; z < d[2]; z++) {
          const slice = original.subarray(z * plane, (z + 1) * plane);
          const comp = naiveComponents((i) => slice[i] === 0, [d[0], d[1], 1]);
          const reached = new Set<number>();
          for (let i = 0; i < plane; i++) {
            const x = i % d[0];
            const y = Math.floor(i / d[0]);
            if ((x === 0 || y === 0 || x === d[0] - 1 || y === d[1] - 1) && comp[i] >= 0) reached.add(comp[i]);
          }
          for (let i = 0; i < plane; i++) {
            const expected = slice[i] === 1 || !reached.has(comp[i]) ? 1 : 0;
            expect(labels[z * plane + i], `trial ${trial} slice ${z} voxel ${i}`).to.equal(expected);
          }
        }
      }
    });
  });

  describe('postprocessLabels', () => {
    const body: SegmentRules = { id: 1, contains: [2], postprocess: { largestComponent: true, minComponentVolumeMl: 0, fillHoles: true, fillHolesPerSlice: false } };
    const bone: SegmentRules = { id: 2, contains: [], postprocess: { largestComponent: false, minComponentVolumeMl: 0.01, fillHoles: true, fillHolesPerSlice: false } };

    it('treats a segment with the labels it contains as one solid, and hands dropped bone back to the body', () => {
      const d: Dims = [12, 12, 12];
      const labels = new Uint8Array(12 ** 3);
      // Body: a block 1..10 with an enclosed air pocket; a bone inside it, a bone speck, and a table outside.
      for (let z = 1; z <= 10; z++) for (let y = 1; y <= 10; y++) for (let x = 1; x <= 8; x++) labels[idx(d, x, y, z)] = 1;
      labels[idx(d, 4, 4, 4)] = 0; // air pocket
      for (let z = 3; z <= 8; z++) for (let y = 6; y <= 8; y++) for (let x = 5; x <= 7; x++) labels[idx(d, x, y, z)] = 2;
      labels[idx(d, 6, 7, 5)] = 1; // marrow inside the bone, labelled body
      labels[idx(d, 2, 2, 8)] = 2; // a one-voxel speck of "bone" inside the body (1 mm³ < 0.01 mL)
      for (let z = 1; z <= 10; z++) labels[idx(d, 10, 5, z)] = 2; // a table rod, apart from the body
      const reports = postprocessLabels(labels, { dims: d, spacing: [1, 1, 1] }, [bone, body]);
      expect(labels[idx(d, 10, 5, 5)], 'the rod is not part of the largest solid').to.equal(0);
      expect(labels[idx(d, 4, 4, 4)], 'the air pocket is filled as body').to.equal(1);
      expect(labels[idx(d, 6, 7, 5)], 'the marrow is filled as bone').to.equal(2);
      expect(labels[idx(d, 2, 2, 8)], 'the speck goes back to body, not to background').to.equal(1);
      expect(reports.map((r) => r.id)).to.deep.equal([1, 2]);
      expect(reports[0].removedComponents).to.equal(1);
      expect(reports[0].filledVoxels).to.equal(1);
      expect(reports[1]).to.include({ removedComponents: 1, removedVoxels: 1, filledVoxels: 1 });
    });

    it('converts the minimum volume to voxels with the spacing', () => {
      const d: Dims = [10, 1, 1];
      const labels = Uint8Array.from([1, 1, 0, 1, 1, 1, 0, 1, 0, 0]);
      // 2 mm³ voxels: 0.005 mL keeps components of 3 voxels (6 mm³) and drops 2 voxels (4 mm³) and 1.
      const rules: SegmentRules = { id: 1, contains: [], postprocess: { largestComponent: false, minComponentVolumeMl: 0.005, fillHoles: false, fillHolesPerSlice: false } };
      postprocessLabels(labels, { dims: d, spacing: [2, 1, 1] }, [rules]);
      expect([...labels]).to.deep.equal([0, 0, 0, 1, 1, 1, 0, 0, 0, 0]);
    });

    it('refuses a label map whose size does not match its dims', () => {
      expect(() => postprocessLabels(new Uint8Array(5), { dims: [2, 2, 2], spacing: [1, 1, 1] }, [])).to.throw(RangeError, /8/);
    });
  });
});
