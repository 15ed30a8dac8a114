/**
 * The model grid: the CT's voxel grid resampled to the model's spacing and, if the model names
 * one, turned to its orientation. Each model axis runs along one CT axis (possibly reversed), so
 * resampling is separable: one table per axis maps model indices to CT coordinates and back.
 *
 * The grids share their first voxel centre (the CT's origin, or its far corner along a reversed
 * axis): model voxel i lies at CT coordinate i · ratio, where ratio = model spacing / CT spacing.
 * With an integer ratio every model voxel falls on a CT voxel, and labels come back without shift.
 */
import type { VolumeGeometry } from '../volume/types.js';

type Vec3 = readonly [number, number, number];

/** How one model axis maps onto the CT grid. */
export interface AxisMap {
  /** The CT axis (0 column, 1 row, 2 slice) it runs along. */
  source: 0 | 1 | 2;
  /** True when the model axis runs against the CT axis. */
  flip: boolean;
  /** CT voxels per model voxel along this axis. */
  ratio: number;
  /** CT voxel count along `source`. */
  sourceSize: number;
}

export interface ModelGrid {
  /** Model voxels along the model's x, y, z axes. */
  dims: [number, number, number];
  /** Actual spacing of the model grid in mm. */
  spacing: [number, number, number];
  axes: [AxisMap, AxisMap, AxisMap];
}

const PATIENT: Record<string, Vec3> = {
  L: [1, 0, 0],
  R: [-1, 0, 0],
  P: [0, 1, 0],
  A: [0, -1, 0],
  S: [0, 0, 1],
  I: [0, 0, -1],
};

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** All orderings of the three CT axes. */
const PERMUTATIONS: [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2][] = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/**
 * Which CT axis (and direction) each model axis takes. Without an orientation the model sees the
 * CT as stored; with one (e.g. "RAS"), each model axis takes the CT axis closest to its patient
 * direction, the assignment that best fits all three at once, as nibabel's io_orientation does.
 */
export function axisAssignment(geometry: VolumeGeometry, orientation?: string): { source: 0 | 1 | 2; flip: boolean }[] {
  if (orientation === undefined) return [0, 1, 2].map((a) => ({ source: a as 0 | 1 | 2, flip: false }));
  const ctAxes: Vec3[] = [geometry.rowDirection, geometry.columnDirection, geometry.sliceDirection];
  const targets = [...orientation].map((c) => PATIENT[c]);
  let best = PERMUTATIONS[0];
  let bestScore = -Infinity;
  for (const perm of PERMUTATIONS) {
    const score = perm.reduce<number>((s, a, m) => s + Math.abs(dot(ctAxes[a], targets[m])), 0);
    if (score > bestScore + 1e-12) {
      best = perm;
      bestScore = score;
    }
  }
  return best.map((a, m) => ({ source: a, flip: dot(ctAxes[a], targets[m]) < 0 }));
}

/**
 * The model grid for a CT and a model's spacing (null: the CT's own spacing) and orientation.
 * Each axis spans the CT's extent; the last model voxel may lie up to one model voxel beyond the
 * last CT voxel centre, where sampling clamps to the edge.
 */
export function modelGrid(geometry: VolumeGeometry, spacing: Vec3 | null, orientation?: string): ModelGrid {
  const assignment = axisAssignment(geometry, orientation);
  const axes = assignment.map(({ source, flip }, m) => {
    const n = geometry.dims[source];
    const ctSpacing = geometry.spacing[source];
    const ratio = spacing === null ? 1 : spacing[m] / ctSpacing;
    return { source, flip, ratio, sourceSize: n };
  }) as [AxisMap, AxisMap, AxisMap];
  const dims = axes.map((a) => (a.sourceSize <= 1 ? 1 : Math.ceil((a.sourceSize - 1) / a.ratio - 1e-6) + 1)) as [number, number, number];
  const mmSpacing = axes.map((a) => a.ratio * geometry.spacing[a.source]) as [number, number, number];
  return { dims, spacing: mmSpacing, axes };
}

/** The continuous CT coordinate (along `axis.source`) of model index i, clamped into the CT. */
export function sourceCoordinate(axis: AxisMap, i: number): number {
  const c = i * axis.ratio;
  const within = Math.min(Math.max(c, 0), axis.sourceSize - 1);
  return axis.flip ? axis.sourceSize - 1 - within : within;
}

/** The nearest model index of CT index j along `axis.source`. */
export function nearestModelIndex(axis: AxisMap, j: number, modelSize: number): number {
  const along = axis.flip ? axis.sourceSize - 1 - j : j;
  return Math.min(Math.max(Math.round(along / axis.ratio), 0), modelSize - 1);
}
