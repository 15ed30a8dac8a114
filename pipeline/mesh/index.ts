/**
 * Meshing: a segment's voxels to a closed, manifold, outward-oriented triangle mesh in patient LPS
 * millimetres, smoothed, decimated and measured. Pure computation, no I/O.
 */
export { MeshError, isMeshError, type MeshErrorCode } from './errors.js';
export { voxelToPatient, type VolumeGeometry, type VoxelToPatient, type Vec3 } from './geometry.js';
export { triangleCount, vertexCount, type TriangleMesh, type MaskSelector } from './types.js';
export { extractSurface } from './extract.js';
export { smoothMesh, DEFAULT_SMOOTHING, type SmoothingOptions } from './smooth.js';
export { windowedSincWeights, windowedSincResponse } from './windowed-sinc.js';
export { decimateMesh, type DecimationOptions, type DecimationResult, type DecimationRepair } from './decimate.js';
export { prepareDecimation } from './simplifier.js';
export { checkManifold, defectiveVertices, type ManifoldReport } from './topology.js';
export { measureMesh, type MeshMeasures } from './measure.js';
export { vertexNormals } from './normals.js';
export { compactMesh, removeFins, splitPinchedVertices } from './repair.js';
export { meshSegment, type MeshingOptions, type SegmentMesh } from './mesh-segment.js';
