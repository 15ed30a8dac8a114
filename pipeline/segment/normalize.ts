/**
 * Intensity normalisation as a lookup table over every Int16 HU value: clip and scale happen once
 * per distinct value, and resampling interpolates normalised values, as nnU-Net normalises before
 * it resamples.
 */
import type { Normalization } from '../models/manifest.js';

/** 65536 entries: entry hu + 32768 is the network input for that HU. */
export function normalizationTable(n: Normalization): Float32Array {
  const table = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = normalize(n, i - 32768);
  return table;
}

/** One HU value, normalised. */
export function normalize(n: Normalization, hu: number): number {
  if (n.kind === 'window') return (Math.min(Math.max(hu, n.min), n.max) - n.min) * n.scale;
  const v = n.clip ? Math.min(Math.max(hu, n.clip[0]), n.clip[1]) : hu;
  return (v - n.mean) / n.std;
}
