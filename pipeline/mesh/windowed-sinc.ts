/**
 * Windowed-sinc smoothing (G. Taubin, T. Zhang, G. Golub, "Optimal surface smoothing as filter
 * design", IBM RC-20404, 1996): a low-pass filter on the mesh's geometric frequencies, applied as
 * a Chebyshev polynomial of the umbrella operator. Unlike plain Laplacian smoothing it does not
 * shrink the object.
 */
import type { Umbrella } from './umbrella.js';

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
 * umbrella Laplacian, so x_{i+1} = x_i + mean(neighbours of x_i) − x_{i−1}. Each order is one
 * gather pass over the vertices; x_{i+1} overwrites x_{i−1} in place (a vertex reads only its own
 * x_{i−1}), so two position arrays and the accumulator are all the memory it needs. `x` (xyz per
 * vertex) and `scratch` (same length) are consumed; the result is a new array.
 */
export function windowedSinc(x: Float64Array, umbrella: Umbrella, f: Float64Array, scratch: Float64Array = new Float64Array(x.length)): Float64Array {
  const { start, offsets, inverseDegree } = umbrella;
  const acc = new Float64Array(x.length);
  firstOrder(x, scratch, acc, f[0], f.length > 1 ? f[1] : 0, start, offsets, inverseDegree);
  let previous: Float64Array = x;
  let current: Float64Array = scratch;
  for (let order = 2; order < f.length; order++) {
    nextOrder(current, previous, acc, f[order], start, offsets, inverseDegree);
    const t = previous;
    previous = current;
    current = t;
  }
  return acc;
}

// Each pass is a function of its own, called once per order, with its arrays as arguments: V8 then
// optimises it with complete type feedback after the first order, instead of compiling one long
// function on the fly while it runs and dropping back to the interpreter at each statement that
// has not run yet (measured: the first smoothing of a process took up to 1.8 times as long as the
// following ones).

/** Order 1: T_1(I − K/2) x = (x + mean) / 2 into `current`; acc = f0 x + f1 T_1 x. */
function firstOrder(x: Float64Array, current: Float64Array, acc: Float64Array, f0: number, f1: number, start: Int32Array, offsets: Int32Array, inverseDegree: Float64Array): void {
  const n = start.length - 1;
  for (let v = 0, i = 0, s = start[0]; v < n; v++, i += 3) {
    const e = start[v + 1];
    let s0 = 0, s1 = 0, s2 = 0;
    for (let k = s; k < e; k++) {
      const q = offsets[k];
      s0 += x[q];
      s1 += x[q + 1];
      s2 += x[q + 2];
    }
    const w = 0.5 * inverseDegree[v];
    const a0 = x[i], a1 = x[i + 1], a2 = x[i + 2];
    const y0 = 0.5 * a0 + s0 * w;
    const y1 = 0.5 * a1 + s1 * w;
    const y2 = 0.5 * a2 + s2 * w;
    current[i] = y0;
    current[i + 1] = y1;
    current[i + 2] = y2;
    acc[i] = f0 * a0 + f1 * y0;
    acc[i + 1] = f0 * a1 + f1 * y1;
    acc[i + 2] = f0 * a2 + f1 * y2;
    s = e;
  }
}

/** One more order: `previous` (x_{i−1}) becomes x_{i+1} = x_i + mean(x_i) − x_{i−1}; acc += fi x_{i+1}. */
function nextOrder(current: Float64Array, previous: Float64Array, acc: Float64Array, fi: number, start: Int32Array, offsets: Int32Array, inverseDegree: Float64Array): void {
  const n = start.length - 1;
  for (let v = 0, i = 0, s = start[0]; v < n; v++, i += 3) {
    const e = start[v + 1];
    let s0 = 0, s1 = 0, s2 = 0;
    let k = s;
    if (e - s >= 3) {
      // Every vertex of a closed mesh has at least three neighbours: reading the first three
      // without a loop test measured about a sixth faster.
      let q = offsets[s];
      s0 = current[q]; s1 = current[q + 1]; s2 = current[q + 2];
      q = offsets[s + 1];
      s0 += current[q]; s1 += current[q + 1]; s2 += current[q + 2];
      q = offsets[s + 2];
      s0 += current[q]; s1 += current[q + 1]; s2 += current[q + 2];
      k = s + 3;
    }
    for (; k < e; k++) {
      const q = offsets[k];
      s0 += current[q];
      s1 += current[q + 1];
      s2 += current[q + 2];
    }
    const w = inverseDegree[v];
    const y0 = current[i] + s0 * w - previous[i];
    const y1 = current[i + 1] + s1 * w - previous[i + 1];
    const y2 = current[i + 2] + s2 * w - previous[i + 2];
    previous[i] = y0;
    previous[i + 1] = y1;
    previous[i + 2] = y2;
    acc[i] += fi * y0;
    acc[i + 1] += fi * y1;
    acc[i + 2] += fi * y2;
    s = e;
  }
}
