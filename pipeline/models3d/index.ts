/**
 * 3D files from segment meshes: GLB (glTF axes, metres) and binary STL (patient LPS millimetres).
 * Encoders are pure: the caller (`limen segment`, the process job) decides where the bytes go.
 */
export type { CodedConcept, ModelSegment, ModelProvenance } from './types.js';
export { LPS_TO_GLTF_ROTATION, MM_TO_M, lpsToGltfPositions, lpsToGltfDirections } from './axes.js';
export { srgbToLinear } from './color.js';
export { encodeGlb, GLTF_AXES_NOTE, type GlbOptions } from './glb.js';
export { compressGlbWithMeshopt, parseGlb, buildGlb } from './meshopt-compression.js';
export { encodeStl, encodeStlCombined, decodeStl, stlFileName, STL_HEADER } from './stl.js';
