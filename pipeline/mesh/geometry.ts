/** Where a voxel grid sits in patient space (DICOM LPS millimetres). */
import { MeshError } from './errors.js';

export type Vec3 = readonly [number, number, number];

/**
 * The grid of a CT volume as assembled: slice k is the k-th slice along `sliceNormal`.
 * Voxel (i, j, k) is column i, row j of slice k; its centre in patient space is
 * `imagePositionPatient + i·spacing[0]·rowCosines + j·spacing[1]·columnCosines + k·spacing[2]·sliceNormal`.
 */
export interface VolumeGeometry {
  /** [columns, rows, slices]. */
  readonly dims: Vec3;
  /**
   * Millimetres between adjacent [columns, rows, slices]: `[PixelSpacing[1], PixelSpacing[0],
   * slice spacing]` (PixelSpacing lists the row spacing first).
   */
  readonly spacing: Vec3;
  /** ImagePositionPatient of slice 0 (the centre of its first voxel). */
  readonly imagePositionPatient: Vec3;
  /** ImageOrientationPatient: the row direction cosines (increasing column), then the column direction cosines (increasing row). */
  readonly imageOrientationPatient: readonly [number, number, number, number, number, number];
  /** Unit vector along which the slices are sorted (usually row × column cosines). */
  readonly sliceNormal: Vec3;
}

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

function finite3(v: readonly number[] | undefined, n = 3): boolean {
  return v !== undefined && v.length === n && v.every((x) => Number.isFinite(x));
}

/** Builds the voxel-to-patient map; throws `invalid-input` or `invalid-geometry` on a grid no surface can be placed in. */
export function voxelToPatient(geometry: VolumeGeometry): VoxelToPatient {
  const { dims, spacing, imagePositionPatient: ipp, imageOrientationPatient: iop, sliceNormal: n } = geometry;
  if (!finite3(dims) || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new MeshError('invalid-input', 'dims must be three positive integers [columns, rows, slices]', { path: 'dims' });
  }
  if (!finite3(spacing) || spacing.some((s) => s <= 0)) {
    throw new MeshError('invalid-input', 'spacing must be three positive millimetre values', { path: 'spacing' });
  }
  if (!finite3(ipp)) throw new MeshError('invalid-geometry', 'imagePositionPatient must be three numbers', { path: 'imagePositionPatient' });
  if (!finite3(iop, 6)) throw new MeshError('invalid-geometry', 'imageOrientationPatient must be six numbers', { path: 'imageOrientationPatient' });
  if (!finite3(n)) throw new MeshError('invalid-geometry', 'sliceNormal must be three numbers', { path: 'sliceNormal' });
  const r = [iop[0], iop[1], iop[2]];
  const c = [iop[3], iop[4], iop[5]];
  const len = (v: readonly number[]): number => Math.hypot(v[0], v[1], v[2]);
  if (Math.abs(len(r) - 1) > UNIT_TOLERANCE || Math.abs(len(c) - 1) > UNIT_TOLERANCE) {
    throw new MeshError('invalid-geometry', 'imageOrientationPatient direction cosines are not unit vectors', { path: 'imageOrientationPatient' });
  }
  if (Math.abs(r[0] * c[0] + r[1] * c[1] + r[2] * c[2]) > UNIT_TOLERANCE) {
    throw new MeshError('invalid-geometry', 'imageOrientationPatient row and column directions are not orthogonal', { path: 'imageOrientationPatient' });
  }
  if (Math.abs(len(n) - 1) > UNIT_TOLERANCE) throw new MeshError('invalid-geometry', 'sliceNormal is not a unit vector', { path: 'sliceNormal' });
  const column: Vec3 = [r[0] * spacing[0], r[1] * spacing[0], r[2] * spacing[0]];
  const row: Vec3 = [c[0] * spacing[1], c[1] * spacing[1], c[2] * spacing[1]];
  const slice: Vec3 = [n[0] * spacing[2], n[1] * spacing[2], n[2] * spacing[2]];
  const determinant =
    column[0] * (row[1] * slice[2] - row[2] * slice[1]) -
    column[1] * (row[0] * slice[2] - row[2] * slice[0]) +
    column[2] * (row[0] * slice[1] - row[1] * slice[0]);
  // A slice normal lying (nearly) in the image plane would collapse the grid.
  if (Math.abs(determinant) < 0.1 * spacing[0] * spacing[1] * spacing[2]) {
    throw new MeshError('invalid-geometry', 'sliceNormal lies in the image plane', { path: 'sliceNormal' });
  }
  return { origin: [ipp[0], ipp[1], ipp[2]], column, row, slice, determinant };
}
