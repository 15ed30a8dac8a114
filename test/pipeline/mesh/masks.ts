/** Small deterministic masks and grids for the meshing tests. */
import type { VolumeGeometry } from '../../../pipeline/mesh/index.js';

export type Dims = [number, number, number];

/** Axial grid at the origin with the given spacing. */
export function axialGeometry(dims: Dims, spacing: [number, number, number] = [1, 1, 1], origin: [number, number, number] = [0, 0, 0]): VolumeGeometry {
  return { dims, spacing, origin, rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], sliceDirection: [0, 0, 1] };
}

/** A seeded pseudo-random generator (LCG): the same seed gives the same masks on every machine. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A mask filled by a predicate on voxel indices. */
export function maskFrom(dims: Dims, inside: (i: number, j: number, k: number) => boolean | number): Uint8Array {
  const [nx, ny, nz] = dims;
  const m = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const v = inside(i, j, k);
        m[(k * ny + j) * nx + i] = typeof v === 'number' ? v : v ? 1 : 0;
      }
    }
  }
  return m;
}

/** Independent random voxels with probability p. */
export function noiseMask(dims: Dims, p: number, seed: number): Uint8Array {
  const r = random(seed);
  return maskFrom(dims, () => r() < p);
}

/** A sum of random Gaussian blobs, thresholded: organic shapes with cavities, handles and touching parts. */
export function blobbyMask(dims: Dims, blobs: number, seed: number): Uint8Array {
  const r = random(seed);
  const centres = Array.from({ length: blobs }, () => [r() * dims[0], r() * dims[1], r() * dims[2], 1 + r() * 3] as const);
  return maskFrom(dims, (i, j, k) => {
    let f = 0;
    for (const [x, y, z, s] of centres) f += Math.exp(-((i - x) ** 2 + (j - y) ** 2 + (k - z) ** 2) / (2 * s * s));
    return f > 0.5;
  });
}

/** A ball of the given radius (voxels) centred in the grid, optionally anisotropic via per-axis scale. */
export function ballMask(dims: Dims, radius: number, centre: [number, number, number] = [(dims[0] - 1) / 2, (dims[1] - 1) / 2, (dims[2] - 1) / 2]): Uint8Array {
  return maskFrom(dims, (i, j, k) => Math.hypot(i - centre[0], j - centre[1], k - centre[2]) <= radius);
}

/** Number of non-zero voxels. */
export function countInside(mask: Uint8Array, label?: number): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (label === undefined ? mask[i] !== 0 : mask[i] === label) n++;
  return n;
}
