/**
 * Patient LPS millimetres → glTF metres.
 *
 * glTF is right-handed with +Y up, +Z towards the viewer and +X to the viewer's right. We place
 * the patient standing, facing the viewer (an anterior view, as a radiologist reads a coronal
 * image):
 *
 *   x_gltf = +L = x_LPS / 1000   (patient's left, on the viewer's right)
 *   y_gltf = +S = z_LPS / 1000   (superior is up)
 *   z_gltf = +A = −y_LPS / 1000  (anterior faces the viewer)
 *
 * The rotation part [[1,0,0],[0,0,1],[0,−1,0]] has determinant +1: it is a proper rotation, so
 * counter-clockwise triangles stay counter-clockwise and outward normals stay outward. Positions
 * keep their patient origin (no recentring), so every segment of a study lines up with the others
 * and with the CT.
 */

/** Row-major 3×3 rotation taking LPS directions to glTF directions. */
export const LPS_TO_GLTF_ROTATION: readonly number[] = [1, 0, 0, 0, 0, 1, 0, -1, 0];

/** Millimetres to metres. */
export const MM_TO_M = 0.001;

/** LPS millimetre positions (xyz per vertex) to glTF metres. */
export function lpsToGltfPositions(lps: Float32Array): Float32Array {
  const out = new Float32Array(lps.length);
  for (let i = 0; i < lps.length; i += 3) {
    out[i] = lps[i] * MM_TO_M;
    out[i + 1] = lps[i + 2] * MM_TO_M;
    out[i + 2] = 0 - lps[i + 1] * MM_TO_M; // 0 − x, not −x: no negative zeros in the file
  }
  return out;
}

/** LPS directions (unit normals) to glTF directions; lengths are kept. */
export function lpsToGltfDirections(lps: Float32Array): Float32Array {
  const out = new Float32Array(lps.length);
  for (let i = 0; i < lps.length; i += 3) {
    out[i] = lps[i];
    out[i + 1] = lps[i + 2];
    out[i + 2] = 0 - lps[i + 1];
  }
  return out;
}
