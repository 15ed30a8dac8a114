/**
 * Resampling between the CT grid and the model grid. A patch of network input is interpolated
 * straight from the Int16 HU volume when it is needed (trilinear, normalised through a lookup
 * table), so no float copy of the whole CT is ever made. Labels return to the CT grid by nearest
 * neighbour.
 */
import type { ModelGrid } from './grid.js';
import { nearestModelIndex, sourceCoordinate } from './grid.js';

/** Model axes (0 x, 1 y, 2 z) in the order of a tensor's spatial dimensions, slowest first. */
export type TensorAxes = [number, number, number];

/** "zyx" → [2, 1, 0]. */
export function tensorAxes(order: string): TensorAxes {
  return [...order].map((c) => 'xyz'.indexOf(c)) as TensorAxes;
}

/** A patch of the model grid: its first voxel and its size, in model axes [x, y, z]. */
export interface PatchBox {
  start: readonly [number, number, number];
  size: readonly [number, number, number];
}

interface AxisTable {
  lo: Int32Array;
  hi: Int32Array;
  w: Float32Array;
  inside: Uint8Array;
}

function axisTable(grid: ModelGrid, m: number, start: number, size: number, sourceStride: number): AxisTable {
  const axis = grid.axes[m];
  const t: AxisTable = { lo: new Int32Array(size), hi: new Int32Array(size), w: new Float32Array(size), inside: new Uint8Array(size) };
  for (let k = 0; k < size; k++) {
    const i = start + k;
    if (i >= grid.dims[m]) continue;
    const c = sourceCoordinate(axis, i);
    const i0 = Math.floor(c);
    const i1 = Math.min(i0 + 1, axis.sourceSize - 1);
    t.lo[k] = i0 * sourceStride;
    t.hi[k] = i1 * sourceStride;
    t.w[k] = c - i0;
    t.inside[k] = 1;
  }
  return t;
}

/**
 * Fills `out` (tensor order given by `axes`) with the normalised, trilinearly interpolated CT over
 * `box`. Voxels beyond the model grid (a patch larger than the volume) get 0, nnU-Net's padding.
 */
export function fillPatch(
  hu: Int16Array,
  ctDims: readonly [number, number, number],
  grid: ModelGrid,
  box: PatchBox,
  axes: TensorAxes,
  table: Float32Array,
  out: Float32Array,
): void {
  const strides = [1, ctDims[0], ctDims[0] * ctDims[1]];
  const tables = [0, 1, 2].map((m) => axisTable(grid, m, box.start[m], box.size[m], strides[grid.axes[m].source]));
  const [A, B, C] = axes.map((m) => tables[m]);
  const [na, nb, nc] = axes.map((m) => box.size[m]);
  // The fastest axis's voxels inside the grid form a prefix; the rest is padding.
  const cInside = Math.max(0, Math.min(nc, grid.dims[axes[2]] - box.start[axes[2]]));
  const cLo = C.lo;
  const cHi = C.hi;
  const cW = C.w;
  let o = 0;
  for (let a = 0; a < na; a++) {
    const aIn = A.inside[a];
    const wa = A.w[a];
    for (let b = 0; b < nb; b++, o += nc) {
      if (aIn === 0 || B.inside[b] === 0) {
        out.fill(0, o, o + nc);
        continue;
      }
      const wb = B.w[b];
      const w00 = (1 - wa) * (1 - wb);
      const w01 = (1 - wa) * wb;
      const w10 = wa * (1 - wb);
      const w11 = wa * wb;
      const p00 = A.lo[a] + B.lo[b];
      const p01 = A.lo[a] + B.hi[b];
      const p10 = A.hi[a] + B.lo[b];
      const p11 = A.hi[a] + B.hi[b];
      for (let c = 0; c < cInside; c++) {
        const lo = cLo[c];
        const hi = cHi[c];
        const wc = cW[c];
        const a0 = table[hu[p00 + lo] + 32768];
        const a1 = table[hu[p01 + lo] + 32768];
        const a2 = table[hu[p10 + lo] + 32768];
        const a3 = table[hu[p11 + lo] + 32768];
        const v00 = a0 + (table[hu[p00 + hi] + 32768] - a0) * wc;
        const v01 = a1 + (table[hu[p01 + hi] + 32768] - a1) * wc;
        const v10 = a2 + (table[hu[p10 + hi] + 32768] - a2) * wc;
        const v11 = a3 + (table[hu[p11 + hi] + 32768] - a3) * wc;
        out[o + c] = w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11;
      }
      if (cInside < nc) out.fill(0, o + cInside, o + nc);
    }
  }
}

/** Labels on the model grid (x fastest) back onto the CT grid, nearest neighbour. */
export function labelsToCtGrid(modelLabels: Uint8Array, grid: ModelGrid, ctDims: readonly [number, number, number]): Uint8Array {
  const modelStride = [1, grid.dims[0], grid.dims[0] * grid.dims[1]];
  const tables = [0, 1, 2].map((ctAxis) => {
    const m = grid.axes.findIndex((a) => a.source === ctAxis);
    const t = new Int32Array(ctDims[ctAxis]);
    for (let j = 0; j < t.length; j++) t[j] = nearestModelIndex(grid.axes[m], j, grid.dims[m]) * modelStride[m];
    return t;
  });
  const [tx, ty, tz] = tables;
  const [nx, ny, nz] = ctDims;
  const out = new Uint8Array(nx * ny * nz);
  let o = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const base = tz[z] + ty[y];
      for (let x = 0; x < nx; x++) out[o++] = modelLabels[base + tx[x]];
    }
  }
  return out;
}
