/** Taubin's λ|μ smoothing ("A signal processing approach to fair surface design", 1995). */
import { neighbourSums, type Umbrella } from './umbrella.js';

/** `iterations` pairs of passes x += λ L x, then x += μ L x (μ < −λ inflates back). Updates `x` in place and returns it. */
export function taubin(x: Float64Array, umbrella: Umbrella, iterations: number, lambda: number, mu: number): Float64Array {
  const { indices, inverseWeight } = umbrella;
  const n = inverseWeight.length;
  const sum = new Float64Array(x.length);
  for (let pass = 0; pass < iterations * 2; pass++) {
    const step = pass % 2 === 0 ? lambda : mu;
    neighbourSums(x, indices, sum);
    for (let v = 0; v < n; v++) {
      const w = inverseWeight[v];
      if (w === 0) continue;
      for (let i = v * 3; i < v * 3 + 3; i++) x[i] += step * (sum[i] * w - x[i]);
    }
  }
  return x;
}
