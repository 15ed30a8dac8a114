/** An indexed triangle mesh in patient LPS millimetres. */
export interface TriangleMesh {
  /** x, y, z per vertex, patient LPS millimetres. */
  readonly positions: Float32Array;
  /** Three vertex indices per triangle, counter-clockwise seen from outside (normals point out). */
  readonly indices: Uint32Array;
}

/**
 * Which mask values are inside the segment: one label value, or a predicate over the byte value
 * (evaluated once per possible value, 0..255). Omitted: every non-zero value.
 */
export type MaskSelector = number | ((value: number) => boolean);

/** Number of triangles of a mesh. */
export function triangleCount(mesh: TriangleMesh): number {
  return mesh.indices.length / 3;
}

/** Number of vertices of a mesh. */
export function vertexCount(mesh: TriangleMesh): number {
  return mesh.positions.length / 3;
}
