/**
 * A deterministic CT-like bone mask: 512 × 512 × 300 voxels of 0.8 × 0.8 × 1 mm holding shapes
 * that mimic a pelvis-to-thigh scan: two oblique thick-walled femoral shafts running out of the
 * volume, femoral heads (spherical shells), a pelvic ring (a hollow torus), a stack of hollow
 * vertebral bodies, and thin rib-like rings. Every shape has an exact signed distance function,
 * so a mesh's distance to the true surface can be measured, not guessed.
 */
import type { VolumeGeometry } from '../../pipeline/mesh/index.js';

type V3 = [number, number, number];

interface Shape {
  /** Signed distance in mm (negative inside) at a point in volume-local millimetres. */
  sdf(p: V3): number;
  /** Local-mm bounding box [min, max]. */
  box: [V3, V3];
}

const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: V3, b: V3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const len = (a: V3): number => Math.hypot(a[0], a[1], a[2]);
const norm = (a: V3): V3 => {
  const l = len(a);
  return [a[0] / l, a[1] / l, a[2] / l];
};

/** Distance from a 2D point to the rectangle [x0,x1]×[y0,y1], signed. */
function rect2(px: number, py: number, x0: number, x1: number, y0: number, y1: number): number {
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, hx = (x1 - x0) / 2, hy = (y1 - y0) / 2;
  const dx = Math.abs(px - cx) - hx, dy = Math.abs(py - cy) - hy;
  const ox = Math.max(dx, 0), oy = Math.max(dy, 0);
  return Math.hypot(ox, oy) + Math.min(Math.max(dx, dy), 0);
}

/** A capped hollow cylinder (tube) from a along the unit axis, with radii [ri, ro] and length h. */
function tube(a: V3, axis: V3, h: number, ri: number, ro: number): Shape {
  const u = norm(axis);
  const ends = [a, [a[0] + u[0] * h, a[1] + u[1] * h, a[2] + u[2] * h] as V3];
  return {
    sdf(p) {
      const d = sub(p, a);
      const t = dot(d, u);
      const r = len([d[0] - u[0] * t, d[1] - u[1] * t, d[2] - u[2] * t]);
      return rect2(r, t, ri, ro, 0, h);
    },
    box: boxOf(ends, ro),
  };
}

/** A spherical shell centred at c with radii [ri, ro]. */
function shell(c: V3, ri: number, ro: number): Shape {
  return { sdf: (p) => rect2(len(sub(p, c)), 0, ri, ro, -1, 1), box: boxOf([c], ro) };
}

/** A torus around centre c with the ring's plane normal n, ring radius R, hollow tube radii [ri, ro]. */
function torus(c: V3, n: V3, R: number, ri: number, ro: number): Shape {
  const w = norm(n);
  return {
    sdf(p) {
      const d = sub(p, c);
      const h = dot(d, w);
      const q = len([d[0] - w[0] * h, d[1] - w[1] * h, d[2] - w[2] * h]) - R;
      return rect2(Math.hypot(q, h), 0, ri, ro, -1, 1);
    },
    box: boxOf([c], R + ro),
  };
}

function boxOf(points: V3[], pad: number): [V3, V3] {
  const lo: V3 = [Infinity, Infinity, Infinity];
  const hi: V3 = [-Infinity, -Infinity, -Infinity];
  for (const p of points) for (let i = 0; i < 3; i++) { lo[i] = Math.min(lo[i], p[i] - pad); hi[i] = Math.max(hi[i], p[i] + pad); }
  return [lo, hi];
}

/** The synthetic scan's geometry: axial, 0.8 mm pixels, 1 mm slices, slices sorted feet to head. */
export const BONE_GEOMETRY: VolumeGeometry = {
  dims: [512, 512, 300],
  spacing: [0.8, 0.8, 1],
  origin: [-204.4, -180.2, -612.5],
  rowDirection: [1, 0, 0],
  columnDirection: [0, 1, 0],
  sliceDirection: [0, 0, 1],
};

function shapes(): Shape[] {
  const list: Shape[] = [];
  // Local millimetres: x across (0..409.6), y front-back (0..409.6), z up (0..300).
  // Femoral shafts, oblique, leaving the volume at the bottom.
  list.push(tube([120, 200, -20], [0.12, 0.03, 1], 230, 9, 15));
  list.push(tube([290, 200, -20], [-0.12, 0.03, 1], 230, 9, 15));
  // Femoral heads and the pelvic ring.
  list.push(shell([150, 205, 232], 14, 24));
  list.push(shell([260, 205, 232], 14, 24));
  list.push(torus([205, 215, 262], [0, 0.35, 1], 95, 8, 14));
  // Vertebral bodies: short hollow cylinders with gaps (discs) between them.
  for (let i = 0; i < 6; i++) list.push(tube([205, 285, 150 + i * 26], [0, 0.1, 1], 20, 8, 18));
  // Rib-like thin rings, tilted.
  for (let i = 0; i < 5; i++) list.push(torus([205, 230, 40 + i * 22], [0, 0.45, 1], 150 - i * 6, 0, 4.5));
  return list;
}

/** Signed distance (mm, negative inside) from a patient-LPS point to the union of the shapes. */
export function boneSignedDistance(lps: readonly [number, number, number], list: Shape[] = shapes()): number {
  const g = BONE_GEOMETRY;
  const p: V3 = [lps[0] - g.origin[0], lps[1] - g.origin[1], lps[2] - g.origin[2]];
  let d = Infinity;
  for (const s of list) d = Math.min(d, s.sdf(p));
  return d;
}

/** A reusable signed-distance function over the union (builds the shape list once). */
export function boneDistanceFunction(): (lps: readonly [number, number, number]) => number {
  const list = shapes();
  return (lps) => boneSignedDistance(lps, list);
}

/**
 * Voxelizes the shapes (voxel centre inside ⇒ 1). Deterministic. The signed distances are exact
 * (1-Lipschitz), so an 8³ block whose centre is farther from the surface than the block's
 * half-diagonal is uniformly inside or outside and is filled or skipped without per-voxel work.
 */
export function generateBoneMask(): Uint8Array {
  const [nx, ny, nz] = BONE_GEOMETRY.dims;
  const [sx, sy, sz] = BONE_GEOMETRY.spacing;
  const mask = new Uint8Array(nx * ny * nz);
  const B = 8;
  const halfDiagonal = 0.5 * Math.hypot(B * sx, B * sy, B * sz);
  const p: V3 = [0, 0, 0];
  for (const s of shapes()) {
    const [lo, hi] = s.box;
    const i0 = Math.max(0, Math.floor(lo[0] / sx)), i1 = Math.min(nx - 1, Math.ceil(hi[0] / sx));
    const j0 = Math.max(0, Math.floor(lo[1] / sy)), j1 = Math.min(ny - 1, Math.ceil(hi[1] / sy));
    const k0 = Math.max(0, Math.floor(lo[2] / sz)), k1 = Math.min(nz - 1, Math.ceil(hi[2] / sz));
    for (let bk = k0; bk <= k1; bk += B) {
      for (let bj = j0; bj <= j1; bj += B) {
        for (let bi = i0; bi <= i1; bi += B) {
          const ke = Math.min(bk + B - 1, k1), je = Math.min(bj + B - 1, j1), ie = Math.min(bi + B - 1, i1);
          const d = s.sdf([((bi + ie) / 2) * sx, ((bj + je) / 2) * sy, ((bk + ke) / 2) * sz]);
          if (d > halfDiagonal) continue;
          const uniform = d < -halfDiagonal;
          for (let k = bk; k <= ke; k++) {
            p[2] = k * sz;
            for (let j = bj; j <= je; j++) {
              p[1] = j * sy;
              const row = (k * ny + j) * nx;
              for (let i = bi; i <= ie; i++) {
                if (uniform) {
                  mask[row + i] = 1;
                  continue;
                }
                p[0] = i * sx;
                if (s.sdf(p) <= 0) mask[row + i] = 1;
              }
            }
          }
        }
      }
    }
  }
  return mask;
}
