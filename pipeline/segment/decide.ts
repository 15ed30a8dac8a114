/**
 * Turns a finished slab of blended scores into label ids: argmax for softmax outputs, threshold
 * then argmax for sigmoid outputs, the value itself for label outputs.
 */
import type { ModelOutput } from '../models/manifest.js';
import { ModelError } from '../models/errors.js';
import type { Slab } from './sliding-window.js';

/**
 * Writes the slab's labels into `target` (one byte per slab voxel). `labelCount` bounds the ids a
 * label output may hold; `scratch` holds at least one float per slab voxel.
 */
export function decideLabels(slab: Slab, output: Pick<ModelOutput, 'kind' | 'threshold'>, labelCount: number, target: Uint8Array, scratch: Float32Array): void {
  const n = slab.weights.length;
  const { scores, channelStride: stride, weights } = slab;
  if (output.kind === 'labels') {
    for (let v = 0; v < n; v++) {
      const id = Math.round(scores[v]);
      if (!(id >= 0 && id <= labelCount)) {
        throw new ModelError('inference-failed', `the network output label ${scores[v]}, outside 0..${labelCount}`, { path: 'output' });
      }
      target[v] = id;
    }
    return;
  }
  const best = scratch.subarray(0, n);
  if (output.kind === 'softmax') {
    // Channel 0 is background; the weights are positive and shared by all channels of a voxel, so
    // the argmax of the sums is the argmax of the weighted means.
    best.set(scores.subarray(0, n));
    target.fill(0, 0, n);
    for (let c = 1; c <= labelCount; c++) {
      const off = c * stride;
      for (let v = 0; v < n; v++) {
        const s = scores[off + v];
        if (s > best[v]) {
          best[v] = s;
          target[v] = c;
        }
      }
    }
    return;
  }
  best.fill(output.threshold);
  target.fill(0, 0, n);
  for (let c = 0; c < labelCount; c++) {
    const off = c * stride;
    for (let v = 0; v < n; v++) {
      const w = weights[v];
      if (w <= 0) continue;
      const s = scores[off + v] / w;
      if (s > best[v]) {
        best[v] = s;
        target[v] = c + 1;
      }
    }
  }
}
