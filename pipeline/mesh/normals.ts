/** Per-vertex normals of a closed, outward-oriented mesh. */
import type { TriangleMesh } from './types.js';

/**
 * Unit vertex normals: the sum of the incident triangles' (area-weighted) normals, normalised.
 * Outward for an outward-oriented mesh. A vertex whose sum vanishes (only degenerate triangles
 * around it) gets +z, so every normal is unit length as glTF requires.
 */
export function vertexNormals(mesh: TriangleMesh): Float32Array {
  const p = mesh.positions;
  const idx = mesh.indices;
  const acc = new Float64Array(p.length);
  for (let t = 0; t < idx.length; t += 3) {
    const a = idx[t] * 3;
    const b = idx[t + 1] * 3;
    const c = idx[t + 2] * 3;
    const ux = p[b] - p[a], uy = p[b + 1] - p[a + 1], uz = p[b + 2] - p[a + 2];
    const vx = p[c] - p[a], vy = p[c + 1] - p[a + 1], vz = p[c + 2] - p[a + 2];
    const nx = uy * vz - uz * vy;
    const ny = uz * vx - ux * vz;
    const nz = ux * vy - uy * vx;
    acc[a] += nx; acc[a + 1] += ny; acc[a + 2] += nz;
    acc[b] += nx; acc[b + 1] += ny; acc[b + 2] += nz;
    acc[c] += nx; acc[c + 1] += ny; acc[c + 2] += nz;
  }
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
