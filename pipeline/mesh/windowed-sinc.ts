/**
 * Windowed-sinc smoothing (G. Taubin, T. Zhang, G. Golub, "Optimal surface smoothing as filter
 * design", IBM RC-20404, 1996): a low-pass filter on the mesh's geometric frequencies, applied as
 * a Chebyshev polynomial of the umbrella operator. Unlike plain Laplacian smoothing it does not
 * shrink the object.
 */
import { accumulateNeighbours, neighbourSums, type Umbrella } from './umbrella.js';

/**
 * Filter weights f_i = window_i · c_i: c_i are the Chebyshev coefficients (in the variable
 * 1 − k/2) of the ideal low-pass with cut-off k_PB, under a Hamming window. As in the report, the
 * cut-off is shifted by Newton's method until f(k_PB) = 1, which makes the pass band flat; then
 * the weights are scaled so f(0) = Σ f_i = 1 exactly, so the lowest frequencies (the object's
 * position and size) pass unchanged.
 */
export function windowedSincWeights(iterations: number, passBand: number): Float64Array {
  const n = iterations;
  const theta = Math.acos(1 - passBand / 2);
  const w = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) w[i] = 0.54 + 0.46 * Math.cos((Math.PI * i) / (n + 1));
  const f = new Float64Array(n + 1);
  const coefficients = (sigma: number): void => {
    f[0] = (w[0] * (theta + sigma)) / Math.PI;
    for (let i = 1; i <= n; i++) f[i] = (2 * w[i] * Math.sin(i * (theta + sigma))) / (i * Math.PI);
  };
  let sigma = 0;
  for (let step = 0; step < 100 && n > 1; step++) {
    coefficients(sigma);
    let atPassBand = 0;
    let slope = w[0] / Math.PI;
    for (let i = 0; i <= n; i++) atPassBand += f[i] * Math.cos(i * theta);
    for (let i = 1; i <= n; i++) slope += ((2 * w[i] * Math.cos(i * (theta + sigma))) / Math.PI) * Math.cos(i * theta);
    if (Math.abs(atPassBand - 1) < 1e-9 || slope === 0) break;
    sigma -= (atPassBand - 1) / slope;
  }
  coefficients(sigma);
  let sum = 0;
  for (let i = 0; i <= n; i++) sum += f[i];
  for (let i = 0; i <= n; i++) f[i] /= sum;
  return f;
}

/** The filter's gain at frequency k in [0, 2] (1 passes, 0 removes): for tests and tuning. */
export function windowedSincResponse(weights: Float64Array, k: number): number {
  const theta = Math.acos(Math.max(-1, Math.min(1, 1 - k / 2)));
  let g = 0;
  for (let i = 0; i < weights.length; i++) g += weights[i] * Math.cos(i * theta);
  return g;
}

/**
 * Σ f_i T_i(I − K/2) x through the Chebyshev recurrence x_{i+1} = 2 x_i + L x_i − x_{i−1}, L the
 * umbrella Laplacian, so x_{i+1} = x_i + mean(neighbours of x_i) − x_{i−1}. `x` (xyz per vertex) is
 * consumed as scratch; the result is a new array. The vertex pass also clears the neighbour sums
 * for the next order, saving a pass over memory.
 */
export function windowedSinc(x: Float64Array, umbrella: Umbrella, f: Float64Array): Float64Array {
  const { indices, inverseWeight } = umbrella;
  const n = inverseWeight.length;
  const len = x.length;
  let x0: Float64Array = x;
  let x1: Float64Array = new Float64Array(len);
  let x2: Float64Array = new Float64Array(len);
  const sum = new Float64Array(len);
  const acc = new Float64Array(len);
  neighbourSums(x0, indices, sum);
  const f0 = f[0];
  const f1 = f.length > 1 ? f[1] : 0;
  for (let v = 0, i = 0; v < n; v++, i += 3) {
    const w = inverseWeight[v];
    // An unused vertex (w = 0) has no neighbours: its Laplacian is 0, so its mean is itself.
    const m0 = w === 0 ? x0[i] : sum[i] * w;
    const m1 = w === 0 ? x0[i + 1] : sum[i + 1] * w;
    const m2 = w === 0 ? x0[i + 2] : sum[i + 2] * w;
    const y0 = 0.5 * (x0[i] + m0);
    const y1 = 0.5 * (x0[i + 1] + m1);
    const y2 = 0.5 * (x0[i + 2] + m2);
    x1[i] = y0;
    x1[i + 1] = y1;
    x1[i + 2] = y2;
    acc[i] = f0 * x0[i] + f1 * y0;
    acc[i + 1] = f0 * x0[i + 1] + f1 * y1;
    acc[i + 2] = f0 * x0[i + 2] + f1 * y2;
    sum[i] = 0;
    sum[i + 1] = 0;
    sum[i + 2] = 0;
  }
  for (let order = 2; order < f.length; order++) {
    accumulateNeighbours(x1, indices, sum);
    const fi = f[order];
    for (let v = 0, i = 0; v < n; v++, i += 3) {
      const w = inverseWeight[v];
      const m0 = w === 0 ? x1[i] : sum[i] * w;
      const m1 = w === 0 ? x1[i + 1] : sum[i + 1] * w;
      const m2 = w === 0 ? x1[i + 2] : sum[i + 2] * w;
      const y0 = x1[i] + m0 - x0[i];
      const y1 = x1[i + 1] + m1 - x0[i + 1];
      const y2 = x1[i + 2] + m2 - x0[i + 2];
      x2[i] = y0;
      x2[i + 1] = y1;
      x2[i + 2] = y2;
      acc[i] += fi * y0;
      acc[i + 1] += fi * y1;
      acc[i + 2] += fi * y2;
      sum[i] = 0;
      sum[i + 1] = 0;
      sum[i + 2] = 0;
    }
    const t = x0;
    x0 = x1;
    x1 = x2;
    x2 = t;
  }
  return acc;
}
