/**
 * A deterministic CT-like phantom in HU, generated in memory: 512 × 512 × 300 voxels of
 * 0.78 × 0.78 × 1 mm (a 400 mm field of view over 300 mm). An elliptic trunk with a fat layer
 * under the skin, soft tissue, lungs in the upper third, a table under the back, a spine of
 * vertebrae (cortex and marrow) with discs, ribs as thin rings in the upper half, a pelvic ring and
 * two femoral shafts in the lower third, and ±25 HU of noise.
 */
import type { VolumeGeometry } from '../../pipeline/volume/types.js';

export interface Phantom extends VolumeGeometry {
  hu: Int16Array;
}

export interface PhantomSpec {
  columns?: number;
  rows?: number;
  slices?: number;
  pixelSpacing?: number;
  sliceSpacing?: number;
  /** Allocate the HU in a SharedArrayBuffer (shared with the worker without a copy). */
  shared?: boolean;
  seed?: number;
}

/** A 32-bit xorshift: fast, deterministic noise. */
function noise(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

export function generatePhantom(spec: PhantomSpec = {}): Phantom {
  const nx = spec.columns ?? 512;
  const ny = spec.rows ?? 512;
  const nz = spec.slices ?? 300;
  const ps = spec.pixelSpacing ?? 0.78;
  const ss = spec.sliceSpacing ?? 1;
  const n = nx * ny * nz;
  const hu = spec.shared ? new Int16Array(new SharedArrayBuffer(n * 2)) : new Int16Array(n);
  const random = noise(spec.seed ?? 1);
  const cx = (nx * ps) / 2;
  const cy = (ny * ps) / 2;
  const length = nz * ss;
  const row = new Int16Array(nx);
  for (let z = 0; z < nz; z++) {
    const zm = z * ss;
    const t = zm / length; // 0 = inferior (thighs) … 1 = superior (chest)
    const trunkA = 170 - 20 * Math.abs(t - 0.5); // half-width, mm
    const trunkB = 115 - 10 * Math.abs(t - 0.5); // half-depth
    const lungs = t > 0.66;
    const ribs = t > 0.45 && zm % 25 < 9;
    const pelvis = t > 0.18 && t < 0.34;
    const femurs = t <= 0.25;
    const disc = zm % 30 < 6;
    for (let y = 0; y < ny; y++) {
      const ym = y * ps - cy; // + is posterior
      for (let x = 0; x < nx; x++) {
        const xm = x * ps - cx;
        let v = -1000;
        // Table: a curved plate under the back.
        if (ym > trunkB + 15 && ym < trunkB + 35 && Math.abs(xm) < 190) v = 150;
        const r = (xm / trunkA) ** 2 + (ym / trunkB) ** 2;
        if (r < 1) {
          v = r > 0.85 ? -100 : 40; // subcutaneous fat, then soft tissue
          if (lungs) {
            const left = ((xm - 70) / 55) ** 2 + ((ym + 5) / 70) ** 2;
            const right = ((xm + 70) / 55) ** 2 + ((ym + 5) / 70) ** 2;
            if (left < 1 || right < 1) v = -850;
          }
          // Spine: a vertebral body (ring of cortex around marrow) in front of the canal.
          const vb = Math.hypot(xm, ym - 60);
          if (vb < 18) v = disc ? 80 : vb > 14 ? 700 : 220;
          const canal = Math.hypot(xm, ym - 88);
          if (!disc && canal < 14 && canal > 8) v = 650;
          if (ribs) {
            const e = (xm / (trunkA - 22)) ** 2 + (ym / (trunkB - 18)) ** 2;
            if (e > 0.9 && e < 1.0 && ym < 80) v = 600;
          }
          if (pelvis) {
            const ring = Math.hypot(xm / 1.4, ym - 10);
            if (ring > 75 && ring < 88) v = ring < 79 || ring > 84 ? 650 : 250;
          }
          if (femurs) {
            for (const side of [-1, 1]) {
              const f = Math.hypot(xm - side * (85 - 40 * t), ym);
              if (f < 15) v = f > 10 ? 900 : -50; // cortex, fatty marrow
            }
          }
        }
        row[x] = Math.round(v + (random() - 0.5) * 50);
      }
      hu.set(row, (z * ny + y) * nx);
    }
  }
  return {
    dims: [nx, ny, nz],
    spacing: [ps, ps, ss],
    origin: [-cx, -cy, 0],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    sliceDirection: [0, 0, 1],
    hu,
  };
}
