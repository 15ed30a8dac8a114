/**
 * Where a voxel grid sits in patient space (DICOM LPS millimetres): the volume's own geometry
 * (`pipeline/volume`), so the mesher and the SEG writer place voxels alike. Voxel (i, j, k) is
 * column i, row j of slice k; its centre is
 * `origin + i·spacing[0]·rowDirection + j·spacing[1]·columnDirection + k·spacing[2]·sliceDirection`.
 */
import type { VolumeGeometry } from '../volume/types.js';
import { MeshError } from './errors.js';

export type { VolumeGeometry };
export type Vec3 = readonly [number, number, number];

/** The affine map from voxel indices (i, j, k) to patient LPS millimetres. */
export interface VoxelToPatient {
  readonly origin: Vec3;
  /** Patient-space step for one column (i + 1), one row (j + 1) and one slice (k + 1). */
  readonly column: Vec3;
  readonly row: Vec3;
  readonly slice: Vec3;
  /** Determinant of [column row slice]: negative when the grid is left-handed in patient space. */
  readonly determinant: number;
}

const UNIT_TOLERANCE = 1e-3;

function finite3(v: readonly number[] | undefined): boolean {
  return v !== undefined && v.length === 3 && v.every((x) => Number.isFinite(x));
}

/** Builds the voxel-to-patient map; throws `invalid-input` or `invalid-geometry` on a grid no surface can be placed in. */
export function voxelToPatient(geometry: VolumeGeometry): VoxelToPatient {
  const { dims, spacing, origin, rowDirection: r, columnDirection: c, sliceDirection: n } = geometry;
  if (!finite3(dims) || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new MeshError('invalid-input', 'dims must be three positive integers [columns, rows, slices]', { path: 'dims' });
  }
  if (!finite3(spacing) || spacing.some((s) => s <= 0)) {
    throw new MeshError('invalid-input', 'spacing must be three positive millimetre values', { path: 'spacing' });
  }
  for (const [name, v] of [['origin', origin], ['rowDirection', r], ['columnDirection', c], ['sliceDirection', n]] as const) {
    if (!finite3(v)) throw new MeshError('invalid-geometry', `${name} must be three numbers`, { path: name });
  }
  const len = (v: readonly number[]): number => Math.hypot(v[0], v[1], v[2]);
  for (const [name, v] of [['rowDirection', r], ['columnDirection', c], ['sliceDirection', n]] as const) {
    if (Math.abs(len(v) - 1) > UNIT_TOLERANCE) throw new MeshError('invalid-geometry', `${name} is not a unit vector`, { path: name });
  }
  if (Math.abs(r[0] * c[0] + r[1] * c[1] + r[2] * c[2]) > UNIT_TOLERANCE) {
    throw new MeshError('invalid-geometry', 'the row and column directions are not orthogonal', { path: 'columnDirection' });
  }
  const column: Vec3 = [r[0] * spacing[0], r[1] * spacing[0], r[2] * spacing[0]];
  const row: Vec3 = [c[0] * spacing[1], c[1] * spacing[1], c[2] * spacing[1]];
  const slice: Vec3 = [n[0] * spacing[2], n[1] * spacing[2], n[2] * spacing[2]];
  const determinant =
    column[0] * (row[1] * slice[2] - row[2] * slice[1]) -
    column[1] * (row[0] * slice[2] - row[2] * slice[0]) +
    column[2] * (row[0] * slice[1] - row[1] * slice[0]);
  // A slice direction lying (nearly) in the image plane would collapse the grid.
  if (Math.abs(determinant) < 0.1 * spacing[0] * spacing[1] * spacing[2]) {
    throw new MeshError('invalid-geometry', 'sliceDirection lies in the image plane', { path: 'sliceDirection' });
  }
  return { origin: [origin[0], origin[1], origin[2]], column, row, slice, determinant };
}
