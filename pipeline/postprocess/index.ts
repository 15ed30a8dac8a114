/**
 * Post-processing of a label map, per segment: keep the largest 6-connected component or drop
 * small ones, and fill holes (in 3D, or slice by slice). In place and iterative: components come from runs of voxels joined in a union-find.
 */
export { postprocessLabels, type SegmentRules, type SegmentPostprocessReport, type LabelGrid } from './apply.js';
export { filterComponents, type ComponentRule, type ComponentReport } from './components.js';
export { fillHoles, fillHolesPerSlice } from './holes.js';
export { runComponents, type RunComponents } from './runs.js';
