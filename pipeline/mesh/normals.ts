/** Per-vertex normals of a closed, outward-oriented mesh. */
import type { TriangleMesh } from './types.js';

/**
 * Unit vertex normals: the sum of the incident triangles' (area-weighted) normals, normalised.
 * Outward for an outward-oriented mesh. A vertex whose sum vanishes (only degenerate triangles
 * around it) gets +z, so every normal is unit length as glTF requires.
 */
export function vertexNormals(mesh: TriangleMesh): Float32Array {
  const p = mesh.positions;
  const acc = new Float64Array(p.length);
  accumulateNormals(p, mesh.indices, acc);
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i += 3) {
    const l = Math.hypot(acc[i], acc[i + 1], acc[i + 2]);
    if (l > 0) {
      out[i] = acc[i] / l;
      out[i + 1] = acc[i + 1] / l;
      out[i + 2] = acc[i + 2] / l;
    } else {
      out[i + 2] = 1;
    }
  }
  return out;
}

/**
 * Area-weighted vertex normals (not normalised) of the triangles of `positions` (xyz per vertex),
 * into `normals` (the same length, overwritten): each vertex gets the sum of its triangles' cross
 * products.
 */
export function accumulateNormals(positions: Float32Array | Float64Array, indices: Uint32Array, normals: Float64Array): void {
  normals.fill(0);
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t] * 3;
    const b = indices[t + 1] * 3;
    const c = indices[t + 2] * 3;
    const ax = positions[a], ay = positions[a + 1], az = positions[a + 2];
    const ux = positions[b] - ax, uy = positions[b + 1] - ay, uz = positions[b + 2] - az;
    const vx = positions[c] - ax, vy = positions[c + 1] - ay, vz = positions[c + 2] - az;
    const nx = uy * vz - uz * vy;
    const ny = uz * vx - ux * vz;
    const nz = ux * vy - uy * vx;
    normals[a] += nx; normals[a + 1] += ny; normals[a + 2] += nz;
    normals[b] += nx; normals[b + 1] += ny; normals[b + 2] += nz;
    normals[c] += nx; normals[c + 1] += ny; normals[c + 2] += nz;
  }
}
