/**
 * Hole filling: the voxels outside a segment's solid form components; those that touch the
 * volume's border are outside, the others are enclosed cavities. In 3D, or in each slice plane (z)
 * on its own, where only the slice's four edges count as border.
 */
import { runComponents } from './runs.js';

/**
 * Sets every enclosed voxel whose label passes `fillable` (a 256-entry 0/1 table) to `label`, in
 * place, and returns how many changed. `solid[l]` is 1 for labels inside the segment.
 */
export function fillHoles(labels: Uint8Array, dims: readonly [number, number, number], solid: Uint8Array, fillable: Uint8Array, label: number): number {
  return fill(labels, dims, solid, fillable, label, true);
}

/** As `fillHoles`, slice by slice: a cavity counts as enclosed when its slice's edges cannot reach it. */
export function fillHolesPerSlice(labels: Uint8Array, dims: readonly [number, number, number], solid: Uint8Array, fillable: Uint8Array, label: number): number {
  return fill(labels, dims, solid, fillable, label, false);
}

function fill(labels: Uint8Array, dims: readonly [number, number, number], solid: Uint8Array, fillable: Uint8Array, label: number, volume: boolean): number {
  const [nx, ny, nz] = dims;
  const outside = new Uint8Array(256);
  for (let l = 0; l < 256; l++) outside[l] = solid[l] === 1 ? 0 : 1;
  const c = runComponents(labels, dims, outside, volume);
  const open = new Uint8Array(c.count);
  for (let i = 0; i < c.count; i++) {
    const r = c.row[i];
    const y = r % ny;
    const z = (r / ny) | 0;
    const rowStart = r * nx;
    const touches = y === 0 || y === ny - 1 || c.start[i] === rowStart || c.end[i] === rowStart + nx || (volume && (z === 0 || z === nz - 1));
    if (touches) open[c.root[i]] = 1;
  }
  let filled = 0;
  for (let i = 0; i < c.count; i++) {
    if (open[c.root[i]] === 1) continue;
    for (let k = c.start[i]; k < c.end[i]; k++) {
      if (fillable[labels[k]] === 1) {
        labels[k] = label;
        filled++;
      }
    }
  }
  return filled;
}
