/**
 * Applies each segment's post-processing rules to a label map, in place. A segment's solid is its
 * label plus the labels it contains (bone inside the body), so "largest component" and "fill
 * holes" see the body as one piece with its bones. Segments are processed containers first.
 */
import { filterComponents } from './components.js';
import { fillHoles, fillHolesPerSlice } from './holes.js';

/** One segment's rules, as the model manifest states them. */
export interface SegmentRules {
  id: number;
  /** Labels inside this segment's solid. */
  contains: readonly number[];
  postprocess: {
    largestComponent: boolean;
    minComponentVolumeMl: number;
    fillHoles: boolean;
    fillHolesPerSlice: boolean;
  };
}

/** What happened to one segment. */
export interface SegmentPostprocessReport {
  id: number;
  components: number;
  removedComponents: number;
  removedVoxels: number;
  filledVoxels: number;
}

/** The grid a label map lies on: x fastest, spacing in mm. */
export interface LabelGrid {
  dims: readonly [number, number, number];
  spacing: readonly [number, number, number];
}

/**
 * Runs every segment's rules over `labels` (modified in place) and reports per segment. Memory:
 * the runs of one voxel set at a time (12 bytes per run), no per-voxel scratch.
 */
export function postprocessLabels(labels: Uint8Array, grid: LabelGrid, segments: readonly SegmentRules[]): SegmentPostprocessReport[] {
  const [nx, ny, nz] = grid.dims;
  if (labels.length !== nx * ny * nz) throw new RangeError(`label map holds ${labels.length} voxels, dims ${nx}x${ny}x${nz} need ${nx * ny * nz}`);
  const byId = new Map(segments.map((s) => [s.id, s]));
  const descendants = (id: number, seen = new Set<number>()): Set<number> => {
    for (const c of byId.get(id)?.contains ?? []) {
      if (!seen.has(c)) {
        seen.add(c);
        descendants(c, seen);
      }
    }
    return seen;
  };
  const parents = (id: number): number[] => segments.filter((s) => s.contains.includes(id)).map((s) => s.id);
  const voxelMl = (grid.spacing[0] * grid.spacing[1] * grid.spacing[2]) / 1000;
  const reports: SegmentPostprocessReport[] = [];

  for (const seg of containersFirst(segments)) {
    const rules = seg.postprocess;
    const report: SegmentPostprocessReport = { id: seg.id, components: 0, removedComponents: 0, removedVoxels: 0, filledVoxels: 0 };
    reports.push(report);
    const solidIds = new Set([seg.id, ...descendants(seg.id)]);
    const solid = lut(solidIds);
    const ancestors = new Set<number>();
    const climb = (id: number): void => {
      for (const p of parents(id)) {
        if (ancestors.has(p)) continue;
        ancestors.add(p);
        climb(p);
      }
    };
    climb(seg.id);

    const minVoxels = rules.minComponentVolumeMl > 0 ? Math.ceil(rules.minComponentVolumeMl / voxelMl - 1e-9) : 0;
    if (rules.largestComponent || minVoxels > 0) {
      // A removed piece falls back to the segment that contains this one (bone → body), if only one does.
      const direct = parents(seg.id);
      const fallback = direct.length === 1 ? direct[0] : 0;
      const replacement = new Uint8Array(256).map((_, l) => l);
      for (const l of solidIds) replacement[l] = fallback;
      const r = filterComponents(labels, grid.dims, solid, replacement, { largestComponent: rules.largestComponent, minVoxels });
      report.components = r.components;
      report.removedComponents = r.removedComponents;
      report.removedVoxels = r.removedVoxels;
    }
    if (rules.fillHoles || rules.fillHolesPerSlice) {
      // Only background and the segments around this one become it; another organ inside stays.
      const fillable = lut(new Set([0, ...ancestors]));
      if (rules.fillHoles) report.filledVoxels += fillHoles(labels, grid.dims, solid, fillable, seg.id);
      if (rules.fillHolesPerSlice) report.filledVoxels += fillHolesPerSlice(labels, grid.dims, solid, fillable, seg.id);
    }
  }
  return reports.sort((a, b) => a.id - b.id);
}

function lut(ids: ReadonlySet<number>): Uint8Array {
  const out = new Uint8Array(256);
  for (const id of ids) out[id] = 1;
  return out;
}

/** Segments ordered so that each comes after every segment containing it; ties by id. */
function containersFirst(segments: readonly SegmentRules[]): SegmentRules[] {
  const depth = new Map<number, number>();
  const depthOf = (id: number, guard = 0): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (guard > 255) throw new Error('segment containment forms a cycle');
    const containers = segments.filter((s) => s.contains.includes(id));
    const d = containers.length === 0 ? 0 : 1 + Math.max(...containers.map((c) => depthOf(c.id, guard + 1)));
    depth.set(id, d);
    return d;
  };
  return [...segments].sort((a, b) => depthOf(a.id) - depthOf(b.id) || a.id - b.id);
}
