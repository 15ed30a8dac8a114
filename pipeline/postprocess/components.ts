/**
 * Removal of 6-connected components of a segment's solid: all but the largest, or those below a
 * voxel count. Components come from runs (runs.ts); removed voxels are relabelled run by run.
 */
import { runComponents } from './runs.js';

export interface ComponentRule {
  /** Keep only the largest component. */
  largestComponent: boolean;
  /** Drop components with fewer voxels than this (0: none). */
  minVoxels: number;
}

/** What `filterComponents` did. */
export interface ComponentReport {
  components: number;
  removedComponents: number;
  removedVoxels: number;
  /** Voxel count of the largest component (0 when the segment is empty). */
  largestVoxels: number;
}

/**
 * Removes the components of the voxels whose label is in `solid` (a 256-entry 0/1 table) that the
 * rule rejects, in place: a removed voxel with label l becomes `replacement[l]`.
 */
export function filterComponents(
  labels: Uint8Array,
  dims: readonly [number, number, number],
  solid: Uint8Array,
  replacement: Uint8Array,
  rule: ComponentRule,
): ComponentReport {
  const c = runComponents(labels, dims, solid);
  const size = new Float64Array(c.count);
  for (let i = 0; i < c.count; i++) size[c.root[i]] += c.end[i] - c.start[i];
  let components = 0;
  let largest = -1;
  for (let i = 0; i < c.count; i++) {
    if (c.root[i] !== i) continue;
    components++;
    if (largest < 0 || size[i] > size[largest]) largest = i;
  }
  const drop = new Uint8Array(c.count);
  let removedComponents = 0;
  for (let i = 0; i < c.count; i++) {
    if (c.root[i] !== i) continue;
    if ((rule.largestComponent && i !== largest) || size[i] < rule.minVoxels) {
      drop[i] = 1;
      removedComponents++;
    }
  }
  let removedVoxels = 0;
  for (let i = 0; i < c.count; i++) {
    if (drop[c.root[i]] !== 1) continue;
    for (let k = c.start[i]; k < c.end[i]; k++) labels[k] = replacement[labels[k]];
    removedVoxels += c.end[i] - c.start[i];
  }
  return { components, removedComponents, removedVoxels, largestVoxels: largest < 0 ? 0 : size[largest] };
}
