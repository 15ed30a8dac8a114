/** A small closed test surface that needs no mask: the decimator warms up on it. */
import type { TriangleMesh } from './types.js';

/**
 * A closed latitude–longitude unit sphere of `rings` bands and `segments` meridians (two poles),
 * counter-clockwise seen from outside: 2 · segments · (rings − 1) triangles.
 */
export function uvSphere(rings: number, segments: number): TriangleMesh {
  const positions = new Float32Array((2 + (rings - 1) * segments) * 3);
  positions[2] = 1; // north pole, vertex 0
  positions[5] = -1; // south pole, vertex 1
  for (let r = 1; r < rings; r++) {
    const theta = (Math.PI * r) / rings;
    for (let s = 0; s < segments; s++) {
      const phi = (2 * Math.PI * s) / segments;
      const v = 2 + (r - 1) * segments + s;
      positions[v * 3] = Math.sin(theta) * Math.cos(phi);
      positions[v * 3 + 1] = Math.sin(theta) * Math.sin(phi);
      positions[v * 3 + 2] = Math.cos(theta);
    }
  }
  const ring = (r: number, s: number): number => 2 + (r - 1) * segments + (s % segments);
  const indices: number[] = [];
  for (let s = 0; s < segments; s++) {
    indices.push(0, ring(1, s), ring(1, s + 1));
    for (let r = 1; r + 1 < rings; r++) indices.push(ring(r, s), ring(r + 1, s), ring(r + 1, s + 1), ring(r, s), ring(r + 1, s + 1), ring(r, s + 1));
    indices.push(1, ring(rings - 1, s + 1), ring(rings - 1, s));
  }
  return { positions, indices: Uint32Array.from(indices) };
}
