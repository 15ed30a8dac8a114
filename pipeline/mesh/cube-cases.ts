/**
 * The 256 marching-cubes configurations, derived from one rule instead of typed in, so that the
 * surface is closed and manifold by construction.
 *
 * Conventions. Corner `c` of a cube sits at (c & 1, c >> 1 & 1, c >> 2 & 1). Edge `e` runs along
 * axis `e >> 2` from its lower corner; bits `e & 3` give that corner's two other coordinates in
 * axis order. A case index has bit `c` set when corner `c` is inside.
 *
 * The rule, per cube:
 * 1. On each of the six faces, join the crossing points of its edges by segments. A face with
 *    four crossings (inside corners on one diagonal) is resolved by cutting off each inside corner:
 *    diagonal inside voxels stay apart (6-connected foreground). Both cubes sharing the face see
 *    the same corners, so they draw the same segments: the surface has no cracks.
 * 2. Orient every segment with the inside corners on its right, seen from outside the cube. The
 *    segments then form disjoint directed cycles (each crossing point lies on exactly two faces);
 *    across a shared face the two cubes traverse a segment in opposite directions.
 * 3. Triangulate each cycle as a fan that keeps the cycle's orientation, from an apex none of
 *    whose diagonals joins two points of one face (such a diagonal could be drawn by the
 *    neighbouring cube too, giving an edge with four triangles). Every cycle of the 256 cases has
 *    such an apex; building the table fails loudly if that ever stops being true.
 * Every mesh edge is then either a face segment (one triangle in each of the two cubes sharing the
 * face) or an interior edge of one cube's fan (two triangles): exactly two triangles per edge,
 * with opposite directions, and each vertex's triangles form one disk.
 */

/** Axis (0 x, 1 y, 2 z) of each of the 12 cube edges. */
export const EDGE_AXIS: readonly number[] = Array.from({ length: 12 }, (_, e) => e >> 2);

/** Offset (dx, dy, dz) of each edge's lower corner within the cube. */
export const EDGE_START: readonly (readonly [number, number, number])[] = Array.from({ length: 12 }, (_, e) => edgeStart(e));

/** The cases flattened into typed arrays for the extractor's inner loop. */
export interface CubeCaseTable {
  /** Case c's crossed edges are `edges[edgeOffset[c] .. edgeOffset[c + 1])`. */
  readonly edgeOffset: Int32Array;
  readonly edges: Uint8Array;
  /**
   * Case c's triangles are `slots[triOffset[c] .. triOffset[c + 1])`, three edge numbers each
   * (the vertex on that edge), counter-clockwise seen from outside.
   */
  readonly triOffset: Int32Array;
  readonly slots: Uint8Array;
}

function edgeStart(e: number): [number, number, number] {
  const axis = e >> 2;
  const others = [0, 1, 2].filter((a) => a !== axis);
  const p: [number, number, number] = [0, 0, 0];
  p[others[0]] = e & 1;
  p[others[1]] = (e >> 1) & 1;
  return p;
}

function cornerIndex(p: readonly number[]): number {
  return p[0] | (p[1] << 1) | (p[2] << 2);
}

function edgeCorners(e: number): [number, number] {
  const s = edgeStart(e);
  const t: [number, number, number] = [s[0], s[1], s[2]];
  t[e >> 2] = 1;
  return [cornerIndex(s), cornerIndex(t)];
}

function midpoint(e: number): [number, number, number] {
  const s = edgeStart(e);
  const m: [number, number, number] = [s[0], s[1], s[2]];
  m[e >> 2] = 0.5;
  return m;
}

function cornerPoint(c: number): [number, number, number] {
  return [c & 1, (c >> 1) & 1, (c >> 2) & 1];
}

/** Face ids (axis * 2 + side) of the two cube faces containing edge e. */
function edgeFaces(e: number): [number, number] {
  const s = edgeStart(e);
  const [a, b] = [0, 1, 2].filter((x) => x !== e >> 2);
  return [a * 2 + s[a], b * 2 + s[b]];
}

function shareFace(e1: number, e2: number): boolean {
  const f1 = edgeFaces(e1);
  const f2 = edgeFaces(e2);
  return f1[0] === f2[0] || f1[0] === f2[1] || f1[1] === f2[0] || f1[1] === f2[1];
}

const sub = (p: readonly number[], q: readonly number[]): [number, number, number] => [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
const dot = (p: readonly number[], q: readonly number[]): number => p[0] * q[0] + p[1] * q[1] + p[2] * q[2];
const cross = (p: readonly number[], q: readonly number[]): [number, number, number] => [
  p[1] * q[2] - p[2] * q[1],
  p[2] * q[0] - p[0] * q[2],
  p[0] * q[1] - p[1] * q[0],
];
const dist = (p: readonly number[], q: readonly number[]): number => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);

interface DerivedCase {
  edges: number[];
  triangles: number[];
}

/** Directed segments on the cube's faces for one case: `next[e]` is the edge the cycle visits after e. */
function faceSegments(inside: (c: number) => boolean): Map<number, number> {
  const next = new Map<number, number>();
  for (let axis = 0; axis < 3; axis++) {
    for (let side = 0; side < 2; side++) {
      const normal = [0, 0, 0];
      normal[axis] = side === 1 ? 1 : -1;
      const faceEdges = Array.from({ length: 12 }, (_, e) => e).filter((e) => e >> 2 !== axis && edgeStart(e)[axis] === side);
      const crossed = faceEdges.filter((e) => {
        const [c0, c1] = edgeCorners(e);
        return inside(c0) !== inside(c1);
      });
      if (crossed.length === 0) continue;
      const faceCorners = [0, 1, 2, 3, 4, 5, 6, 7].filter((c) => cornerPoint(c)[axis] === side);
      const pairs: [number, number, number][] = []; // [edge, edge, an inside corner beside them]
      if (crossed.length === 2) {
        const ins = faceCorners.find(inside);
        if (ins === undefined) throw new Error('cube case table: crossed face without an inside corner');
        pairs.push([crossed[0], crossed[1], ins]);
      } else if (crossed.length === 4) {
        for (const c of faceCorners.filter(inside)) {
          const around = crossed.filter((e) => edgeCorners(e).includes(c));
          if (around.length !== 2) throw new Error('cube case table: ambiguous face not resolvable');
          pairs.push([around[0], around[1], c]);
        }
      } else {
        throw new Error('cube case table: odd number of crossings on a face');
      }
      for (const [e1, e2, ins] of pairs) {
        const p = midpoint(e1);
        const q = midpoint(e2);
        const side1 = dot(sub(cornerPoint(ins), p), cross(normal, sub(q, p)));
        const [from, to] = side1 < 0 ? [e1, e2] : [e2, e1];
        if (next.has(from)) throw new Error('cube case table: a crossing point starts two segments');
        next.set(from, to);
      }
    }
  }
  return next;
}

function triangulateCycle(cycle: number[]): number[] {
  const n = cycle.length;
  const tris: number[] = [];
  let best = -1;
  let bestScore = Infinity;
  for (let i = 0; i < n; i++) {
    let ok = true;
    let score = 0;
    for (let k = 0; k < n && ok; k++) {
      if (k === i || k === (i + 1) % n || k === (i + n - 1) % n) continue;
      if (shareFace(cycle[i], cycle[k])) ok = false;
      score += dist(midpoint(cycle[i]), midpoint(cycle[k]));
    }
    if (ok && score < bestScore - 1e-12) {
      best = i;
      bestScore = score;
    }
  }
  if (best < 0) throw new Error(`cube case table: no fan apex for cycle ${cycle.join(',')}`);
  for (let j = 1; j + 1 < n; j++) tris.push(cycle[best], cycle[(best + j) % n], cycle[(best + j + 1) % n]);
  return tris;
}

function deriveCase(caseIndex: number): DerivedCase {
  const inside = (c: number): boolean => ((caseIndex >> c) & 1) === 1;
  const next = faceSegments(inside);
  const edges = [...next.keys()].sort((a, b) => a - b);
  const targets = new Set(next.values());
  if (targets.size !== edges.length || edges.some((e) => !targets.has(e))) {
    throw new Error(`cube case table: case ${caseIndex} does not close into cycles`);
  }
  const seen = new Set<number>();
  const triangles: number[] = [];
  for (const start of edges) {
    if (seen.has(start)) continue;
    const cycle: number[] = [];
    for (let e = start; !seen.has(e); e = next.get(e)!) {
      seen.add(e);
      cycle.push(e);
    }
    triangles.push(...triangulateCycle(cycle));
  }
  return { edges, triangles };
}

function buildTable(): CubeCaseTable {
  const cases = Array.from({ length: 256 }, (_, c) => deriveCase(c));
  const edgeOffset = new Int32Array(257);
  const triOffset = new Int32Array(257);
  for (let c = 0; c < 256; c++) {
    edgeOffset[c + 1] = edgeOffset[c] + cases[c].edges.length;
    triOffset[c + 1] = triOffset[c] + cases[c].triangles.length;
  }
  const edges = new Uint8Array(edgeOffset[256]);
  const slots = new Uint8Array(triOffset[256]);
  for (let c = 0; c < 256; c++) {
    edges.set(cases[c].edges, edgeOffset[c]);
    slots.set(cases[c].triangles, triOffset[c]);
  }
  return { edgeOffset, edges, triOffset, slots };
}

/** The derived table, built once when the module loads (a few milliseconds) and never changed. */
export const CUBE_CASES: CubeCaseTable = buildTable();
