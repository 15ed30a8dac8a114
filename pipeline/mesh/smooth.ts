/**
 * Volume-preserving smoothing of a closed mesh: windowed sinc (Taubin, Zhang and Golub, "Optimal
 * surface smoothing as filter design", 1996) or Taubin's λ|μ, followed by the removal of the
 * low-frequency normal drift (`normal-drift.ts`), which keeps thin and small parts from shrinking.
 * All steps move vertices only, so the connectivity, hence closedness and manifoldness, is untouched.
 */
import { MeshError } from './errors.js';
import { removeNormalDrift } from './normal-drift.js';
import { taubin } from './taubin.js';
import { umbrellaOperator } from './umbrella.js';
import { windowedSinc, windowedSincWeights } from './windowed-sinc.js';
import type { TriangleMesh } from './types.js';

/** How to smooth. */
export type SmoothingOptions =
  | {
      readonly method: 'windowed-sinc';
      /** Chebyshev order = number of Laplacian passes (default 20). */
      readonly iterations?: number;
      /** Pass band k_PB in (0, 2): lower smooths more (default 0.05). */
      readonly passBand?: number;
      /** Take back the smoothing's low-frequency normal drift, so thin parts keep their volume (default true). */
      readonly keepLocalVolume?: boolean;
    }
  | {
      readonly method: 'taubin';
      /** Number of λ|μ pass pairs (default 20). */
      readonly iterations?: number;
      /** Shrinking step (default 0.5). */
      readonly lambda?: number;
      /** Inflating step, negative, |μ| > λ (default -0.53: pass band 0.1). */
      readonly mu?: number;
      /** As for windowed sinc (default true). */
      readonly keepLocalVolume?: boolean;
    }
  | { readonly method: 'none' };

/** Windowed sinc, 20 passes, pass band 0.05, local volume kept. */
export const DEFAULT_SMOOTHING: SmoothingOptions = { method: 'windowed-sinc', iterations: 20, passBand: 0.05, keepLocalVolume: true };

/** Returns a mesh with the same triangles and smoothed positions. */
export function smoothMesh(mesh: TriangleMesh, options: SmoothingOptions = DEFAULT_SMOOTHING): TriangleMesh {
  if (options.method === 'none' || mesh.indices.length === 0) return { positions: mesh.positions.slice(), indices: mesh.indices };
  const n = mesh.positions.length / 3;
  const umbrella = umbrellaOperator(mesh.indices, n);
  // Centred double-precision coordinates: patient positions can sit hundreds of mm from the origin.
  const centre = centroid(mesh.positions);
  const x = centred(mesh.positions, centre[0], centre[1], centre[2]);
  const scratch = new Float64Array(n * 3);
  let out: Float64Array;
  if (options.method === 'windowed-sinc') {
    const iterations = options.iterations ?? 20;
    const passBand = options.passBand ?? 0.05;
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1000) throw new MeshError('invalid-input', 'windowed-sinc iterations must be an integer in 1..1000', { path: 'smoothing.iterations' });
    if (!(passBand > 0 && passBand < 2)) throw new MeshError('invalid-input', 'windowed-sinc passBand must lie in (0, 2)', { path: 'smoothing.passBand' });
    out = windowedSinc(x, umbrella, windowedSincWeights(iterations, passBand), scratch);
  } else {
    const iterations = options.iterations ?? 20;
    const lambda = options.lambda ?? 0.5;
    const mu = options.mu ?? -0.53;
    if (!Number.isInteger(iterations) || iterations < 0 || iterations > 10000) throw new MeshError('invalid-input', 'taubin iterations must be an integer in 0..10000', { path: 'smoothing.iterations' });
    if (!(lambda > 0 && lambda < 1 && mu < 0 && -mu > lambda)) throw new MeshError('invalid-input', 'taubin needs 0 < lambda < 1 and mu < -lambda', { path: 'smoothing.mu' });
    out = taubin(x, umbrella, iterations, lambda, mu, scratch);
  }
  if (options.keepLocalVolume ?? true) {
    // The smoothing's spent buffers serve as the drift's scratch (Taubin's result is one of them).
    const spare: [Float64Array, Float64Array] = out === x ? [scratch, new Float64Array(n * 3)] : out === scratch ? [x, new Float64Array(n * 3)] : [x, scratch];
    removeNormalDrift(out, centre, mesh.positions, mesh.indices, umbrella, spare);
  }
  return { positions: uncentred(out, centre[0], centre[1], centre[2]), indices: mesh.indices };
}

// The loops over all vertices live in small functions of their own, which V8 optimises as a whole
// (see windowed-sinc.ts).

function centred(p: Float32Array, cx: number, cy: number, cz: number): Float64Array {
  const x = new Float64Array(p.length);
  for (let i = 0; i < p.length; i += 3) {
    x[i] = p[i] - cx;
    x[i + 1] = p[i + 1] - cy;
    x[i + 2] = p[i + 2] - cz;
  }
  return x;
}

function uncentred(x: Float64Array, cx: number, cy: number, cz: number): Float32Array {
  const p = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += 3) {
    p[i] = x[i] + cx;
    p[i + 1] = x[i + 1] + cy;
    p[i + 2] = x[i + 2] + cz;
  }
  return p;
}

function centroid(p: Float32Array): [number, number, number] {
  const n = p.length / 3;
  let sx = 0, sy = 0, sz = 0;
  for (let i = 0; i < p.length; i += 3) {
    sx += p[i];
    sy += p[i + 1];
    sz += p[i + 2];
  }
  return n > 0 ? [sx / n, sy / n, sz / n] : [0, 0, 0];
}
