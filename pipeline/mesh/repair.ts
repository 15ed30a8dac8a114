/** Small, exact clean-ups of an indexed mesh: no vertex is moved. */
import { vertexStars } from './topology.js';
import type { TriangleMesh } from './types.js';

/**
 * Drops triangles that repeat a vertex, and pairs of triangles on the same three vertices with
 * opposite orientations. Such a pair is a zero-volume "fin" an edge collapse can leave where a thin
 * part folded flat; removing both changes neither the enclosed volume nor the visible surface.
 * Returns the kept triangles and how many were removed.
 */
export function removeFins(indices: Uint32Array, vertexCount: number): { indices: Uint32Array; removed: number } {
  const triangles = indices.length / 3;
  const drop = new Uint8Array(triangles);
  let removed = 0;
  for (let t = 0; t < triangles; t++) {
    const a = indices[t * 3], b = indices[t * 3 + 1], c = indices[t * 3 + 2];
    if (a === b || b === c || a === c) {
      drop[t] = 1;
      removed++;
    }
  }
  const { start, corners } = vertexStars(indices, vertexCount);
  for (let t = 0; t < triangles; t++) {
    if (drop[t] === 1) continue;
    const a = indices[t * 3], b = indices[t * 3 + 1], c = indices[t * 3 + 2];
    // Any duplicate of t also has a corner at a: look only there.
    for (let k = start[a]; k < start[a + 1]; k++) {
      const corner = corners[k];
      const u = (corner / 3) | 0;
      if (u <= t || drop[u] === 1) continue;
      const next = indices[u * 3 + ((corner % 3) + 1) % 3];
      const prev = indices[u * 3 + ((corner % 3) + 2) % 3];
      // u = (a, c, b) in cyclic order is t reversed.
      if (next === c && prev === b) {
        drop[t] = 1;
        drop[u] = 1;
        removed += 2;
        break;
      }
    }
  }
  if (removed === 0) return { indices, removed };
  const kept = new Uint32Array(indices.length - removed * 3);
  let o = 0;
  for (let t = 0; t < triangles; t++) {
    if (drop[t] === 1) continue;
    kept[o++] = indices[t * 3];
    kept[o++] = indices[t * 3 + 1];
    kept[o++] = indices[t * 3 + 2];
  }
  return { indices: kept, removed };
}

/**
 * Splits pinched vertices: where a vertex's triangles form several separate fans (two cones
 * meeting at a point, as when a thin neck collapses), each extra fan gets its own copy of the
 * vertex, at the same position. Every edge keeps its two triangles; only vertices whose edges are
 * all manifold are split. Returns the new mesh and how many copies were added.
 */
export function splitPinchedVertices(mesh: TriangleMesh): { mesh: TriangleMesh; added: number } {
  const { indices } = mesh;
  const vertexCount = mesh.positions.length / 3;
  const { start, corners } = vertexStars(indices, vertexCount);
  const next = (i: number): number => (i % 3 === 2 ? i - 2 : i + 1);
  const prev = (i: number): number => (i % 3 === 0 ? i + 2 : i - 1);
  let out: Uint32Array | null = null;
  const extra: number[] = [];
  for (let v = 0; v < vertexCount; v++) {
    const s = start[v];
    const e = start[v + 1];
    if (e - s < 3) continue;
    // Link of v: triangle (v, b, c) maps b → c. Split only if that map is a permutation of the
    // link vertices (each edge at v manifold), i.e. every b occurs once as a source and once as a target.
    let permutation = true;
    for (let k = s; k < e && permutation; k++) {
      const b = indices[next(corners[k])];
      let asSource = 0;
      let asTarget = 0;
      for (let j = s; j < e; j++) {
        if (indices[next(corners[j])] === b) asSource++;
        if (indices[prev(corners[j])] === b) asTarget++;
      }
      permutation = asSource === 1 && asTarget === 1;
    }
    if (!permutation) continue;
    // Label each corner with its cycle; cycles after the first get a new vertex.
    const cycle = new Int32Array(e - s).fill(-1);
    let cycles = 0;
    for (let k = s; k < e; k++) {
      if (cycle[k - s] >= 0) continue;
      let at = k;
      while (cycle[at - s] < 0) {
        cycle[at - s] = cycles;
        const c = indices[prev(corners[at])];
        let found = -1;
        for (let j = s; j < e; j++) if (indices[next(corners[j])] === c) found = j;
        at = found;
      }
      cycles++;
    }
    if (cycles === 1) continue;
    out ??= indices.slice();
    const firstCopy = vertexCount + extra.length / 3;
    for (let c = 1; c < cycles; c++) extra.push(mesh.positions[v * 3], mesh.positions[v * 3 + 1], mesh.positions[v * 3 + 2]);
    for (let k = s; k < e; k++) if (cycle[k - s] > 0) out[corners[k]] = firstCopy + cycle[k - s] - 1;
  }
  if (out === null) return { mesh, added: 0 };
  const positions = new Float32Array(mesh.positions.length + extra.length);
  positions.set(mesh.positions);
  positions.set(extra, mesh.positions.length);
  return { mesh: { positions, indices: out }, added: extra.length / 3 };
}

/** Removes vertices no triangle uses; the others are numbered in order of first use. */
export function compactMesh(positions: Float32Array, indices: Uint32Array): TriangleMesh {
  // newIndex holds the new number + 1 (0: not used yet), so the array needs no fill; `order` lists
  // the used vertices, so only they are copied (a decimated mesh uses a tenth of its input's).
  const newIndex = new Int32Array(positions.length / 3);
  const order = new Int32Array(Math.min(newIndex.length, indices.length));
  const outIndices = new Uint32Array(indices.length);
  let used = 0;
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    let r = newIndex[v];
    if (r === 0) {
      order[used] = v;
      r = newIndex[v] = ++used;
    }
    outIndices[i] = r - 1;
  }
  const out = new Float32Array(used * 3);
  for (let r = 0; r < used; r++) {
    const v = order[r] * 3;
    out[r * 3] = positions[v];
    out[r * 3 + 1] = positions[v + 1];
    out[r * 3 + 2] = positions[v + 2];
  }
  return { positions: out, indices: outIndices };
}
