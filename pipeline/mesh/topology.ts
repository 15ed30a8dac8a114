/**
 * Topology checks on indexed triangle meshes: closed, manifold, consistently oriented.
 * Built on per-vertex rows of triangles (CSR); every check looks only at one vertex's own triangles.
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

/**
 * Each vertex's triangles as compressed rows of their other two corners: for triangle (v, b, c),
 * `next` holds b (the half-edge v → b leaves v) and `prev` holds c (c → v arrives). Built in one
 * pass over the triangles, so the checks below need no corner arithmetic.
 */
function vertexLinks(indices: Uint32Array, vertexCount: number): { start: Int32Array; next: Int32Array; prev: Int32Array } {
  const start = new Int32Array(vertexCount + 1);
  for (let i = 0; i < indices.length; i++) start[indices[i] + 1]++;
  for (let v = 0; v < vertexCount; v++) start[v + 1] += start[v];
  const fill = start.slice(0, vertexCount);
  const next = new Int32Array(indices.length);
  const prev = new Int32Array(indices.length);
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t];
    const b = indices[t + 1];
    const c = indices[t + 2];
    let k = fill[a]++;
    next[k] = b;
    prev[k] = c;
    k = fill[b]++;
    next[k] = c;
    prev[k] = a;
    k = fill[c]++;
    next[k] = a;
    prev[k] = b;
  }
  return { start, next, prev };
}

/**
 * The check of one vertex (rows s..e) when all is well, at a fraction of the full count's cost:
 * following link edges end to start, each time to the first triangle whose edge starts there,
 * returns to the first triangle after exactly e − s steps. Then every triangle was reached, so the
 * `next` corners are distinct (a later duplicate is never the first match), and the `prev` corners
 * are the same set: no duplicate and no unmatched half-edge at this vertex, and its link is one
 * cycle. Any other outcome sends the vertex to the full count.
 */
function isDisk(next: Int32Array, prev: Int32Array, s: number, e: number): boolean {
  const k = e - s;
  let at = s;
  let steps = 0;
  do {
    const end = prev[at];
    let found = -1;
    for (let i = s; i < e; i++) {
      if (next[i] === end) {
        found = i;
        break;
      }
    }
    at = found;
    steps++;
  } while (at > s && steps < k);
  return at === s && steps === k;
}

function analyse(mesh: TriangleMesh, bad: Uint8Array | null): ManifoldReport {
  const { indices } = mesh;
  const vertexCount = mesh.positions.length / 3;
  const triangles = indices.length / 3;
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
  // Each triangle (v, b, c) at v: the half-edge v → b leaves v, the half-edge c → v arrives, and
  // the link of v has the edge b → c. Everything is checked within v's own triangles: the
  // opposite of v → b is b → v, which lies in a triangle at v whose corner at v is preceded by b.
  const { start, next, prev } = vertexLinks(indices, vertexCount);
  let maxValence = 0;
  for (let v = 0; v < vertexCount; v++) maxValence = Math.max(maxValence, start[v + 1] - start[v]);
  // follow[j]: the first triangle at v whose link edge starts where triangle j's ends.
  const follow = new Int32Array(maxValence);
  let unmatchedHalfEdges = 0;
  let duplicateHalfEdges = 0;
  let nonManifoldVertices = 0;
  let unusedVertices = 0;
  for (let v = 0; v < vertexCount; v++) {
    const s = start[v];
    const e = start[v + 1];
    if (s === e) {
      unusedVertices++;
      continue;
    }
    if (isDisk(next, prev, s, e)) continue;
    for (let j = s; j < e; j++) {
      const target = next[j];
      const end = prev[j];
      let same = 0;
      let opposite = 0;
      let after = -1;
      for (let i = s; i < e; i++) {
        const n = next[i];
        if (n === target) same++;
        if (n === end && after < 0) after = i - s;
        if (prev[i] === target) opposite++;
      }
      follow[j - s] = after;
      if (same > 1) {
        duplicateHalfEdges++;
        if (bad !== null) bad[v] = bad[target] = 1;
      }
      if (opposite === 0) {
        unmatchedHalfEdges++;
        if (bad !== null) bad[v] = bad[target] = 1;
      }
    }
    // A disk's link is one cycle through all k link edges: from the first triangle, following
    // link edges end to start returns to it after exactly k steps (not before, not never).
    const k = e - s;
    let at = 0;
    let steps = 0;
    do {
      at = follow[at];
      steps++;
    } while (at > 0 && steps < k);
    if (at !== 0 || steps !== k) {
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
