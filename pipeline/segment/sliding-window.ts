/**
 * Sliding-window inference as nnU-Net does it: patches overlap, each patch's scores are weighted by
 * a Gaussian centred on the patch (its edges see the least context), and every voxel's scores are
 * the weighted mean over the patches that cover it.
 *
 * Memory stays bounded: patches are visited slab by slab along the model's z axis, and the score
 * accumulator holds only one patch depth of slices (channels × x × y × patch z). Once no later
 * patch can reach a slice, it is handed to `onSlab` and dropped.
 *
 * A patch margin (manifest `patchMargin`) gives zero weight to voxels near patch faces inside the
 * volume, where a network with a local receptive field sees padding instead of the neighbouring CT.
 * With a margin of at least that radius, every weight that counts belongs to a patch that computed
 * the voxel exactly as one whole-volume run would, so the weighted mean equals the whole-volume
 * result: the weights normalise out.
 */
import type { PatchBox, TensorAxes } from './resample.js';

type Vec3 = [number, number, number];

/** nnU-Net's Gaussian: sigma = patch size / 8 along each axis. */
export const GAUSSIAN_SIGMA_SCALE = 1 / 8;

/** Where patches start along one axis: evenly spread, first at 0, last ending at the border. */
export function windowStarts(size: number, patch: number, overlap: number): number[] {
  if (size <= patch) return [0];
  const step = Math.max(1, Math.floor(patch * (1 - overlap)));
  const count = Math.ceil((size - patch) / step) + 1;
  const span = size - patch;
  return Array.from({ length: count }, (_, k) => Math.round((k * span) / (count - 1)));
}

/** The windows over a model grid. */
export interface WindowPlan {
  gridDims: Vec3;
  /** The patch actually run, [x, y, z]. */
  patch: Vec3;
  starts: [number[], number[], number[]];
  margin: number;
  /** False for a whole-volume run: uniform weights. */
  gaussian: boolean;
}

/**
 * Plans the windows. A graph with free spatial dimensions gets patches no larger than the grid;
 * a fixed-size graph gets its patch, padded beyond the grid. `patch` null: one whole-volume window.
 */
export function planWindows(gridDims: Vec3, patch: Vec3 | null, overlap: number, margin: number, fixedSize: boolean): WindowPlan {
  if (patch === null) return { gridDims, patch: [...gridDims], starts: [[0], [0], [0]], margin: 0, gaussian: false };
  const used = patch.map((p, m) => (fixedSize ? p : Math.min(p, gridDims[m]))) as Vec3;
  const starts = used.map((p, m) => windowStarts(gridDims[m], p, overlap)) as [number[], number[], number[]];
  return { gridDims, patch: used, starts, margin, gaussian: true };
}

/** Number of patches a plan runs. */
export function windowCount(plan: WindowPlan): number {
  return plan.starts[0].length * plan.starts[1].length * plan.starts[2].length;
}

/**
 * One axis of a patch's weight: the Gaussian (peak 1 at the patch centre, as nnU-Net normalises
 * it), zeroed within `margin` of a face that lies inside the grid.
 */
export function axisWeights(patch: number, start: number, gridSize: number, margin: number, gaussian: boolean): Float32Array {
  const w = new Float32Array(patch);
  const sigma = patch * GAUSSIAN_SIGMA_SCALE;
  const centre = Math.floor(patch / 2);
  for (let k = 0; k < patch; k++) w[k] = gaussian ? Math.exp(-((k - centre) ** 2) / (2 * sigma * sigma)) : 1;
  if (margin > 0) {
    if (start > 0) w.fill(0, 0, Math.min(margin, patch));
    if (start + patch < gridSize) w.fill(0, Math.max(0, patch - margin), patch);
  }
  return w;
}

/** How overlapping patch outputs combine: a weighted mean, or (label outputs) the heaviest patch's value. */
export type BlendMode = 'mean' | 'heaviest';

/**
 * A finished slab: slices [z0, z1) of the model grid (x fastest), every channel's weighted sum and
 * the weight sum. Channel c's voxel v is `scores[c * channelStride + v]`; in `heaviest` mode
 * channel 0 holds the chosen value.
 */
export interface Slab {
  z0: number;
  z1: number;
  scores: Float32Array;
  channelStride: number;
  /** Per voxel: the summed weights (`mean`) or the heaviest weight (`heaviest`). */
  weights: Float32Array;
}

export interface SlidingWindowOptions {
  plan: WindowPlan;
  channels: number;
  mode: BlendMode;
  /** Spatial order of the network's tensors. */
  axes: TensorAxes;
  /** Runs the network on one patch; returns channels × patch voxels in tensor order. */
  runPatch: (box: PatchBox) => Promise<Float32Array>;
  /** Receives finished slabs in order; the arrays are reused after it returns. */
  onSlab: (slab: Slab) => void;
  onPatch?: (done: number, total: number) => void;
}

/** Runs every window of the plan and hands out each slab of the grid once it is complete. */
export async function slidingWindow(o: SlidingWindowOptions): Promise<void> {
  const { plan, channels, mode, axes } = o;
  const [nx, ny, nz] = plan.gridDims;
  const [px, py, pz] = plan.patch;
  const plane = nx * ny;
  const depth = Math.min(pz, nz);
  const slabVoxels = plane * depth;
  const acc = new Float32Array(channels * slabVoxels);
  const wsum = new Float32Array(slabVoxels);
  // Tensor strides of the model axes inside one patch output.
  const tensorStride: Vec3 = [0, 0, 0];
  tensorStride[axes[2]] = 1;
  tensorStride[axes[1]] = plan.patch[axes[2]];
  tensorStride[axes[0]] = plan.patch[axes[2]] * plan.patch[axes[1]];
  const patchVoxels = px * py * pz;
  const wrow = new Float32Array(px);
  const total = windowCount(plan);
  // Synchronous and monomorphic, so the hot loops get optimised (they would not inside the async loop).
  const accumulate = (out: Float32Array, p: PatchPlace): void =>
    mode === 'mean'
      ? accumulateMean(acc, wsum, out, p, wrow, channels, slabVoxels, patchVoxels, nx, plane, tensorStride)
      : accumulateHeaviest(acc, wsum, out, p, wrow, nx, plane, tensorStride);
  let done = 0;
  const zStarts = plan.starts[2];
  for (let k = 0; k < zStarts.length; k++) {
    const base = zStarts[k];
    const wz = axisWeights(pz, base, nz, plan.margin, plan.gaussian);
    for (const sy of plan.starts[1]) {
      const wy = axisWeights(py, sy, ny, plan.margin, plan.gaussian);
      for (const sx of plan.starts[0]) {
        const wx = axisWeights(px, sx, nx, plan.margin, plan.gaussian);
        const box: PatchBox = { start: [sx, sy, base], size: plan.patch };
        const out = await o.runPatch(box);
        if (out.length !== channels * patchVoxels) {
          throw new RangeError(`the network returned ${out.length} values for a patch, expected ${channels} × ${patchVoxels}`);
        }
        accumulate(out, { sx, sy, sz: base, wx, wy, wz, ex: Math.min(px, nx - sx), ey: Math.min(py, ny - sy), ez: Math.min(pz, nz - base) });
        o.onPatch?.(++done, total);
      }
    }
    const next = k + 1 < zStarts.length ? zStarts[k + 1] : nz;
    const finished = next - base;
    o.onSlab({ z0: base, z1: next, scores: acc, channelStride: slabVoxels, weights: wsum.subarray(0, finished * plane) });
    // Slide: what later patches still add to moves to the front; the freed tail starts at zero.
    const keep = slabVoxels - finished * plane;
    for (let c = 0; c < channels; c++) {
      const off = c * slabVoxels;
      acc.copyWithin(off, off + finished * plane, off + slabVoxels);
      acc.fill(0, off + keep, off + slabVoxels);
    }
    wsum.copyWithin(0, finished * plane, slabVoxels);
    wsum.fill(0, keep, slabVoxels);
  }
}

/** Where a patch lies and its per-axis weights; e[xyz] is the part inside the grid. */
interface PatchPlace {
  sx: number;
  sy: number;
  sz: number;
  wx: Float32Array;
  wy: Float32Array;
  wz: Float32Array;
  ex: number;
  ey: number;
  ez: number;
}

function accumulateMean(
  acc: Float32Array,
  wsum: Float32Array,
  out: Float32Array,
  p: PatchPlace,
  wrow: Float32Array,
  channels: number,
  slabVoxels: number,
  patchVoxels: number,
  nx: number,
  plane: number,
  ts: Vec3,
): void {
  const { ex, ey, ez, wx, wy, wz } = p;
  const sxStride = ts[0];
  for (let z = 0; z < ez; z++) {
    for (let y = 0; y < ey; y++) {
      const wzy = wz[z] * wy[y];
      if (wzy === 0) continue;
      for (let x = 0; x < ex; x++) wrow[x] = wzy * wx[x];
      const slabRow = z * plane + (p.sy + y) * nx + p.sx;
      const outRow = z * ts[2] + y * ts[1];
      for (let x = 0; x < ex; x++) wsum[slabRow + x] += wrow[x];
      for (let c = 0; c < channels; c++) {
        const a = c * slabVoxels + slabRow;
        const b = c * patchVoxels + outRow;
        if (sxStride === 1) {
          for (let x = 0; x < ex; x++) acc[a + x] += wrow[x] * out[b + x];
        } else {
          for (let x = 0; x < ex; x++) acc[a + x] += wrow[x] * out[b + x * sxStride];
        }
      }
    }
  }
}

function accumulateHeaviest(acc: Float32Array, wsum: Float32Array, out: Float32Array, p: PatchPlace, wrow: Float32Array, nx: number, plane: number, ts: Vec3): void {
  const { ex, ey, ez, wx, wy, wz } = p;
  for (let z = 0; z < ez; z++) {
    for (let y = 0; y < ey; y++) {
      const wzy = wz[z] * wy[y];
      if (wzy === 0) continue;
      const slabRow = z * plane + (p.sy + y) * nx + p.sx;
      const outRow = z * ts[2] + y * ts[1];
      for (let x = 0; x < ex; x++) {
        const w = wzy * wx[x];
        if (w > wsum[slabRow + x]) {
          wsum[slabRow + x] = w;
          acc[slabRow + x] = out[outRow + x * ts[0]];
        }
      }
    }
  }
}
