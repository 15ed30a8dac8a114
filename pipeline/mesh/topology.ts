/**
 * Topology checks on indexed triangle meshes: closed, manifold, consistently oriented.
 * Built on per-vertex lists of triangle corners (CSR); every check looks only at one vertex's own triangles.
 */
import type { TriangleMesh } from './types.js';

/** Triangles around each vertex, as compressed rows: vertex v's triangle corners are `corners[start[v] .. start[v+1])`, each `triangle * 3 + corner`. */
export interface VertexStars {
  readonly start: Int32Array;
  readonly corners: Int32Array;
}

/** Groups triangle corners by vertex. */
export function vertexStars(indices: Uint32Array, vertexCount: number): VertexStars {
  const start = new Int32Array(vertexCount + 1);
  for (let i = 0; i < indices.length; i++) start[indices[i] + 1]++;
  for (let v = 0; v < vertexCount; v++) start[v + 1] += start[v];
  const fill = start.slice(0, vertexCount);
  const corners = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) corners[fill[indices[i]]++] = i;
  return { start, corners };
}

/** What is wrong with a mesh that should bound a solid; all zero for a closed oriented 2-manifold. */
export interface ManifoldReport {
  readonly vertices: number;
  readonly triangles: number;
  /** Triangles repeating a vertex. */
  readonly degenerateTriangles: number;
  /** Directed edges a→b with no opposite b→a (holes or orientation flips). */
  readonly unmatchedHalfEdges: number;
  /** Directed edges a→b used by more than one triangle (an edge in more than two triangles, or two triangles with the same orientation). */
  readonly duplicateHalfEdges: number;
  /** Vertices whose triangles do not form a single disk (pinched vertices). */
  readonly nonManifoldVertices: number;
  /** Vertices used by no triangle (harmless, reported for completeness). */
  readonly unusedVertices: number;
  /** True when every edge has exactly two triangles traversing it in opposite directions and every vertex is a disk. */
  readonly closedManifold: boolean;
}

/**
 * Checks that every edge is shared by exactly two triangles with opposite orientations (so the
 * surface is watertight and its normals agree) and that each vertex's triangles form one fan.
 */
export function checkManifold(mesh: TriangleMesh): ManifoldReport {
  return analyse(mesh, null);
}

/** The vertices at which `checkManifold` finds a defect (ends of bad edges, pinched vertices), ascending. */
export function defectiveVertices(mesh: TriangleMesh): Uint32Array {
  const bad = new Uint8Array(mesh.positions.length / 3);
  analyse(mesh, bad);
  let n = 0;
  for (let v = 0; v < bad.length; v++) n += bad[v];
  const out = new Uint32Array(n);
  for (let v = 0, o = 0; v < bad.length; v++) if (bad[v] === 1) out[o++] = v;
  return out;
}

function analyse(mesh: TriangleMesh, bad: Uint8Array | null): ManifoldReport {
  const { indices } = mesh;
  const vertexCount = mesh.positions.length / 3;
  const triangles = indices.length / 3;
  const { start, corners } = vertexStars(indices, vertexCount);
  let degenerateTriangles = 0;
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t];
    const b = indices[t + 1];
    const c = indices[t + 2];
    if (a === b || b === c || a === c) {
      degenerateTriangles++;
      if (bad !== null) bad[a] = bad[b] = bad[c] = 1;
    }
  }
  let maxValence = 0;
  for (let v = 0; v < vertexCount; v++) maxValence = Math.max(maxValence, start[v + 1] - start[v]);
  // Each triangle (v, b, c) at v: the half-edge v → b leaves v, the half-edge c → v arrives, and
  // the link of v has the edge b → c. Everything is checked within v's own triangles: the
  // opposite of v → b is b → v, which lies in a triangle at v whose corner at v is preceded by b.
  const after = new Int32Array(maxValence);
  const before = new Int32Array(maxValence);
  let unmatchedHalfEdges = 0;
  let duplicateHalfEdges = 0;
  let nonManifoldVertices = 0;
  let unusedVertices = 0;
  for (let v = 0; v < vertexCount; v++) {
    const s = start[v];
    const k = start[v + 1] - s;
    if (k === 0) {
      unusedVertices++;
      continue;
    }
    for (let j = 0; j < k; j++) {
      const corner = corners[s + j];
      const r = corner % 3;
      const base = corner - r;
      after[j] = indices[base + (r === 2 ? 0 : r + 1)];
      before[j] = indices[base + (r === 0 ? 2 : r - 1)];
    }
    for (let j = 0; j < k; j++) {
      const target = after[j];
      let same = 0;
      let opposite = 0;
      for (let i = 0; i < k; i++) {
        if (after[i] === target) same++;
        if (before[i] === target) opposite++;
      }
      if (same > 1) {
        duplicateHalfEdges++;
        if (bad !== null) bad[v] = bad[target] = 1;
      }
      if (opposite === 0) {
        unmatchedHalfEdges++;
        if (bad !== null) bad[v] = bad[target] = 1;
      }
    }
    // A disk's link is one cycle through all k link edges.
    const first = after[0];
    let b = first;
    let steps = 0;
    let closed = false;
    while (steps < k) {
      let found = -1;
      for (let i = 0; i < k; i++) {
        if (after[i] === b) {
          found = before[i];
          break;
        }
      }
      if (found < 0) break;
      steps++;
      b = found;
      if (b === first) {
        closed = true;
        break;
      }
    }
    if (!closed || steps !== k) {
      nonManifoldVertices++;
      if (bad !== null) bad[v] = 1;
    }
  }
  return {
    vertices: vertexCount,
    triangles,
    degenerateTriangles,
    unmatchedHalfEdges,
    duplicateHalfEdges,
    nonManifoldVertices,
    unusedVertices,
    closedManifold: degenerateTriangles === 0 && unmatchedHalfEdges === 0 && duplicateHalfEdges === 0 && nonManifoldVertices === 0,
  };
}
