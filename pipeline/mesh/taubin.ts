/** Taubin's λ|μ smoothing ("A signal processing approach to fair surface design", 1995). */
import type { Umbrella } from './umbrella.js';

/**
 * `iterations` pairs of passes x += λ L x, then x += μ L x (μ < −λ inflates back), L the umbrella
 * Laplacian. Consumes `x` and `scratch` (same length) and returns the result, which is one of them.
 */
export function taubin(x: Float64Array, umbrella: Umbrella, iterations: number, lambda: number, mu: number, scratch: Float64Array = new Float64Array(x.length)): Float64Array {
  const { start, offsets, inverseDegree } = umbrella;
  const n = start.length - 1;
  let from: Float64Array = x;
  let to: Float64Array = scratch;
  for (let pass = 0; pass < iterations * 2; pass++) {
    const step = pass % 2 === 0 ? lambda : mu;
    for (let v = 0, i = 0, s = start[0]; v < n; v++, i += 3) {
      const e = start[v + 1];
      let s0 = 0, s1 = 0, s2 = 0;
      for (let k = s; k < e; k++) {
        const q = offsets[k];
        s0 += from[q];
        s1 += from[q + 1];
        s2 += from[q + 2];
      }
      const w = inverseDegree[v];
      const a0 = from[i], a1 = from[i + 1], a2 = from[i + 2];
      to[i] = a0 + step * (s0 * w - a0);
      to[i + 1] = a1 + step * (s1 * w - a1);
      to[i + 2] = a2 + step * (s2 * w - a2);
      s = e;
    }
    const t = from;
    from = to;
    to = t;
  }
  return from;
}
