/**
 * Decimation with meshoptimizer's edge-collapse simplifier (WebAssembly, on a worker thread of its
 * own: simplifier.ts), kept closed and manifold; the checks and repairs run on the caller's thread.
 *
 * meshoptimizer does not promise to preserve manifoldness: where a thin part folds flat it can
 * leave a zero-volume fin (two triangles on the same three vertices, back to back), or pinch a
 * collapsed neck into one vertex shared by two fans. So every result is checked. Fins are removed
 * and pinched vertices split, both exactly (no vertex moves); if defects remain, the original
 * vertices around them are locked and the simplification is redone from the original, with a
 * wider lock each time; if that still fails, the undecimated mesh is returned and the result says so.
 */
import { MeshError } from './errors.js';
import { compactMesh, removeFins, splitPinchedVertices } from './repair.js';
import { prepareDecimation, simplify } from './simplifier.js';
import { checkManifold, defectiveVertices } from './topology.js';
import type { TriangleMesh } from './types.js';

/** How far to decimate. */
export interface DecimationOptions {
  /** Fraction of the triangles to keep, in (0, 1] (default 0.1). */
  readonly targetRatio?: number;
  /** Number of triangles to aim for; takes precedence over `targetRatio`. */
  readonly targetTriangles?: number;
  /** Stop before the surface moves more than this many millimetres (default: no limit, the target rules). */
  readonly maxErrorMm?: number;
  /**
   * Move kept vertices to the positions that minimise the quadric error (meshoptimizer's
   * `simplifyWithUpdate`) instead of keeping a subset of the original vertices (default true).
   */
  readonly updatePositions?: boolean;
}

/** What decimation did to reach a closed manifold. */
export type DecimationRepair =
  /** The simplifier's output was closed and manifold. */
  | 'none'
  /** Zero-volume fins were removed and/or pinched vertices split. */
  | 'repaired'
  /** Defective regions were locked and the simplification redone. */
  | 'locked-retry'
  /** No closed manifold result was reached: the input mesh is returned undecimated. */
  | 'kept-original';

/** The decimated mesh and how it was obtained. */
export interface DecimationResult {
  readonly mesh: TriangleMesh;
  /** meshoptimizer's estimate of the largest deviation from the input surface, in millimetres. */
  readonly errorMm: number;
  readonly repair: DecimationRepair;
  /** Fin triangles removed in the accepted attempt. */
  readonly finsRemoved: number;
  /** Vertex copies added to split pinched vertices in the accepted attempt. */
  readonly pinchesSplit: number;
  /** Simplifications run (1 when the first result was accepted). */
  readonly attempts: number;
}

const MAX_ATTEMPTS = 4;
/** Above this many defective vertices, locking would freeze too much: keep the input instead. */
const MAX_DEFECTS_TO_LOCK = 2000;

/** Decimates a closed manifold mesh. Never returns a mesh that fails `checkManifold`, unless the input did. */
export async function decimateMesh(mesh: TriangleMesh, options: DecimationOptions = {}): Promise<DecimationResult> {
  const target = targetTriangles(mesh, options);
  const maxError = options.maxErrorMm ?? 1e30;
  if (!(maxError >= 0)) throw new MeshError('invalid-input', 'maxErrorMm must be a non-negative number', { path: 'decimation.maxErrorMm' });
  const triangles = mesh.indices.length / 3;
  if (target >= triangles) return { mesh, errorMm: 0, repair: 'none', finsRemoved: 0, pinchesSplit: 0, attempts: 0 };
  await prepareDecimation();

  const update = options.updatePositions ?? true;
  let lock: Uint8Array | null = null;
  let lockRadius = 0;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const { indices, positions, error } = await simplify(mesh, target * 3, maxError, lock, update);
    // Compact first: the fin search then works on the kept vertices only.
    const kept = compactMesh(positions, indices);
    const fins = removeFins(kept.indices, kept.positions.length / 3);
    let candidate = fins.removed > 0 ? compactMesh(kept.positions, fins.indices) : kept;
    let pinchesSplit = 0;
    let manifold = checkManifold(candidate).closedManifold;
    // Pinched vertices are rare: split them only when the check finds a defect.
    if (!manifold) {
      const split = splitPinchedVertices(candidate);
      candidate = split.mesh;
      pinchesSplit = split.added;
      manifold = pinchesSplit > 0 && checkManifold(candidate).closedManifold;
    }
    if (manifold) {
      const repaired = fins.removed > 0 || pinchesSplit > 0;
      const repair: DecimationRepair = attempt > 1 ? 'locked-retry' : repaired ? 'repaired' : 'none';
      return { mesh: candidate, errorMm: error, repair, finsRemoved: fins.removed, pinchesSplit, attempts: attempt };
    }
    const defects = defectiveVertices(candidate);
    if (defects.length > MAX_DEFECTS_TO_LOCK) break;
    if (lockRadius === 0) lockRadius = 3 * meanEdgeLength(candidate);
    else lockRadius *= 2;
    lock = lockNear(mesh.positions, candidate.positions, defects, lockRadius, lock);
  }
  return { mesh, errorMm: 0, repair: 'kept-original', finsRemoved: 0, pinchesSplit: 0, attempts: MAX_ATTEMPTS };
}

function targetTriangles(mesh: TriangleMesh, options: DecimationOptions): number {
  const triangles = mesh.indices.length / 3;
  if (options.targetTriangles !== undefined) {
    if (!Number.isInteger(options.targetTriangles) || options.targetTriangles < 4) {
      throw new MeshError('invalid-input', 'targetTriangles must be an integer ≥ 4', { path: 'decimation.targetTriangles' });
    }
    return options.targetTriangles;
  }
  const ratio = options.targetRatio ?? 0.1;
  if (!(ratio > 0 && ratio <= 1)) throw new MeshError('invalid-input', 'targetRatio must lie in (0, 1]', { path: 'decimation.targetRatio' });
  return Math.max(4, Math.round(triangles * ratio));
}

function meanEdgeLength(mesh: TriangleMesh): number {
  const p = mesh.positions;
  const idx = mesh.indices;
  let sum = 0;
  for (let t = 0; t < idx.length; t += 3) {
    for (let j = 0; j < 3; j++) {
      const a = idx[t + j] * 3;
      const b = idx[t + ((j + 1) % 3)] * 3;
      sum += Math.hypot(p[a] - p[b], p[a + 1] - p[b + 1], p[a + 2] - p[b + 2]);
    }
  }
  return idx.length > 0 ? sum / idx.length : 0;
}

/** Locks every original vertex within `radius` of a defective vertex of the candidate (added to `previous`). */
function lockNear(original: Float32Array, candidate: Float32Array, defects: Uint32Array, radius: number, previous: Uint8Array | null): Uint8Array {
  const lock = previous ?? new Uint8Array(original.length / 3);
  const r2 = radius * radius;
  // Defects sorted by x: each vertex checks only the defects within ±radius in x.
  const order = Array.from(defects).sort((a, b) => candidate[a * 3] - candidate[b * 3]);
  const xs = Float64Array.from(order, (d) => candidate[d * 3]);
  for (let v = 0; v < lock.length; v++) {
    const x = original[v * 3], y = original[v * 3 + 1], z = original[v * 3 + 2];
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x - radius) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < xs.length && xs[k] <= x + radius; k++) {
      const d = order[k] * 3;
      const dx = candidate[d] - x, dy = candidate[d + 1] - y, dz = candidate[d + 2] - z;
      if (dx * dx + dy * dy + dz * dz <= r2) {
        lock[v] = 1;
        break;
      }
    }
  }
  return lock;
}
