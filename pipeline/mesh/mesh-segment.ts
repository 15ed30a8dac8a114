/** One segment's mask to its final mesh: extract, smooth, decimate, measure. */
import { decimateMesh, type DecimationOptions, type DecimationRepair } from './decimate.js';
import { extractSurface } from './extract.js';
import type { VolumeGeometry } from './geometry.js';
import { measureMesh } from './measure.js';
import { vertexNormals } from './normals.js';
import { prepareDecimation } from './simplifier.js';
import { DEFAULT_SMOOTHING, smoothMesh, type SmoothingOptions } from './smooth.js';
import type { MaskSelector, TriangleMesh } from './types.js';

/** How to mesh a segment. */
export interface MeshingOptions {
  /** Smoothing (default: windowed sinc, 20 passes, pass band 0.05, local volume kept). */
  readonly smoothing?: SmoothingOptions;
  /**
   * Decimation (default: keep 10 % of the triangles, moving the surface at most half the smallest
   * voxel spacing); `false` keeps every triangle.
   */
  readonly decimation?: DecimationOptions | false;
}

/** A segment's mesh and what is known about it. */
export interface SegmentMesh {
  /** Closed, manifold, outward-oriented; patient LPS millimetres. Empty when no voxel was inside. */
  readonly mesh: TriangleMesh;
  /** Unit outward vertex normals, LPS. */
  readonly normals: Float32Array;
  /** Enclosed volume of `mesh` in mL. */
  readonly volumeMl: number;
  readonly areaMm2: number;
  /** Triangles straight out of surface extraction, before decimation. */
  readonly extractedTriangles: number;
  readonly decimation: { readonly repair: DecimationRepair; readonly errorMm: number; readonly attempts: number } | null;
  /** Milliseconds per step. */
  readonly timings: { readonly extractMs: number; readonly smoothMs: number; readonly decimateMs: number; readonly measureMs: number };
}

/**
 * Meshes the voxels of `mask` selected by `inside`. Every step keeps the surface closed and
 * manifold (extraction by construction, smoothing moves vertices only, decimation is checked).
 */
export async function meshSegment(mask: Uint8Array, geometry: VolumeGeometry, inside: MaskSelector | undefined, options: MeshingOptions = {}): Promise<SegmentMesh> {
  // The simplifier's worker gets ready while the surface is extracted and smoothed; a failure to
  // start surfaces from decimateMesh, which awaits the same promise.
  if (options.decimation !== false) prepareDecimation().catch(() => undefined);
  let t = performance.now();
  const extracted = extractSurface(mask, geometry, inside);
  const extractMs = performance.now() - t;
  t = performance.now();
  const smoothed = smoothMesh(extracted, options.smoothing ?? DEFAULT_SMOOTHING);
  const smoothMs = performance.now() - t;
  t = performance.now();
  let mesh = smoothed;
  let decimation: SegmentMesh['decimation'] = null;
  if (options.decimation !== false && smoothed.indices.length > 0) {
    // Unbounded, collapsing to 10 % flattened thin bone on coarse grids and lost a sixth of its
    // volume, depending on the grid's orientation; half a voxel is below what the grid resolves.
    const maxErrorMm = options.decimation?.maxErrorMm ?? 0.5 * Math.min(...geometry.spacing);
    const result = await decimateMesh(smoothed, { ...options.decimation, maxErrorMm });
    mesh = result.mesh;
    decimation = { repair: result.repair, errorMm: result.errorMm, attempts: result.attempts };
  }
  const decimateMs = performance.now() - t;
  t = performance.now();
  const measures = measureMesh(mesh);
  const normals = vertexNormals(mesh);
  const measureMs = performance.now() - t;
  return {
    mesh,
    normals,
    volumeMl: measures.volumeMl,
    areaMm2: measures.areaMm2,
    extractedTriangles: extracted.indices.length / 3,
    decimation,
    timings: { extractMs, smoothMs, decimateMs, measureMs },
  };
}
