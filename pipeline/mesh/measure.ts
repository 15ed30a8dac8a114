/** Enclosed volume and surface area of a closed mesh. */
import type { TriangleMesh } from './types.js';

/** Volume and area of a mesh in patient millimetres. */
export interface MeshMeasures {
  /** Signed enclosed volume in mm³ (divergence theorem); positive when the normals point outward. */
  readonly signedVolumeMm3: number;
  /** Enclosed volume in millilitres (cm³): |signed volume| / 1000. */
  readonly volumeMl: number;
  /** Surface area in mm². */
  readonly areaMm2: number;
}

/**
 * Sums, per triangle, the signed volume of the tetrahedron it spans with a reference point and
 * its area. The reference point is the bounding-box centre: for patient coordinates far from
 * the origin this keeps the sum well conditioned (the result does not depend on it for a closed mesh).
 */
export function measureMesh(mesh: TriangleMesh): MeshMeasures {
  const p = mesh.positions;
  const idx = mesh.indices;
  let minX = Infinity, minY = Infinity, minZ = Infinity, maxX = -Infinity, maxY = -Infinity, maxZ = -Infinity;
  for (let i = 0; i < p.length; i += 3) {
    if (p[i] < minX) minX = p[i];
    if (p[i] > maxX) maxX = p[i];
    if (p[i + 1] < minY) minY = p[i + 1];
    if (p[i + 1] > maxY) maxY = p[i + 1];
    if (p[i + 2] < minZ) minZ = p[i + 2];
    if (p[i + 2] > maxZ) maxZ = p[i + 2];
  }
  const rx = p.length > 0 ? (minX + maxX) / 2 : 0;
  const ry = p.length > 0 ? (minY + maxY) / 2 : 0;
  const rz = p.length > 0 ? (minZ + maxZ) / 2 : 0;
  let six = 0;
  let twiceArea = 0;
  for (let t = 0; t < idx.length; t += 3) {
    const a = idx[t] * 3;
    const b = idx[t + 1] * 3;
    const c = idx[t + 2] * 3;
    const ax = p[a] - rx, ay = p[a + 1] - ry, az = p[a + 2] - rz;
    const bx = p[b] - rx, by = p[b + 1] - ry, bz = p[b + 2] - rz;
    const cx = p[c] - rx, cy = p[c + 1] - ry, cz = p[c + 2] - rz;
    six += ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx);
    const ux = bx - ax, uy = by - ay, uz = bz - az;
    const vx = cx - ax, vy = cy - ay, vz = cz - az;
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    twiceArea += Math.sqrt(nx * nx + ny * ny + nz * nz);
  }
  const signedVolumeMm3 = six / 6;
  return { signedVolumeMm3, volumeMl: Math.abs(signedVolumeMm3) / 1000, areaMm2: twiceArea / 2 };
}
