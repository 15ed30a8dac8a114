/**
 * Segments a CT volume with a model: resample to the model grid patch by patch, normalise, run
 * the sliding window, decide labels, bring them back to the CT grid, post-process each segment.
 * The network is reached through `PatchRunner`, so this runs the same with onnxruntime or with any
 * function a test supplies.
 */
import { ModelError } from '../models/errors.js';
import type { ModelManifest } from '../models/manifest.js';
import { postprocessLabels, type SegmentPostprocessReport } from '../postprocess/index.js';
import type { CtVolume, LabelMap, VolumeGeometry } from '../volume/types.js';
import { decideLabels } from './decide.js';
import { modelGrid, type ModelGrid } from './grid.js';
import { normalizationTable } from './normalize.js';
import { fillPatch, labelsToCtGrid, tensorAxes } from './resample.js';
import { planWindows, slidingWindow, windowCount, type Slab } from './sliding-window.js';

/** Runs the network on one input tensor; returns the output's values and dims. */
export interface PatchRunner {
  /** True when the graph's input has a fixed spatial size (patches are then padded to it). */
  fixedSpatialSize: boolean;
  run(input: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: readonly number[] }>;
}

/** A stage of segmentation and its progress, 0..100 overall. */
export type SegmentationStage = 'load' | 'infer' | 'resample' | 'postprocess' | 'done';
export type ProgressCallback = (percent: number, stage: SegmentationStage) => void;

/** The CT part the segmentation needs: geometry and HU. */
export type SegmentationInput = VolumeGeometry & Pick<CtVolume, 'hu'>;

/** One segment of the result. */
export interface SegmentSummary {
  id: number;
  name: string;
  voxels: number;
  volumeMl: number;
}

export interface SegmentationTimings {
  loadMs: number;
  inferMs: number;
  resampleMs: number;
  postprocessMs: number;
  totalMs: number;
}

export interface SegmentationResult {
  labelMap: LabelMap;
  modelId: string;
  modelName: string;
  algorithmVersion: string;
  sha256: string;
  segments: SegmentSummary[];
  postprocess: SegmentPostprocessReport[];
  /** The model grid it ran on and the number of patches. */
  modelGrid: { dims: [number, number, number]; spacing: [number, number, number] };
  patches: number;
  timings: SegmentationTimings;
}

/** Share of the progress bar each stage takes. */
const PROGRESS = { inferFrom: 5, inferTo: 90, resample: 92, postprocess: 100 } as const;

/** Validates the volume's shape and geometry before any work. */
export function checkVolume(v: SegmentationInput): void {
  const [nx, ny, nz] = v.dims;
  if (![nx, ny, nz].every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ModelError('invalid-volume', `volume dims ${v.dims.join('x')} are not positive integers`, { path: 'dims' });
  }
  if (v.hu.length !== nx * ny * nz) {
    throw new ModelError('invalid-volume', `volume holds ${v.hu.length} voxels, dims ${nx}x${ny}x${nz} need ${nx * ny * nz}`, { path: 'hu' });
  }
  if (!v.spacing.every((s) => Number.isFinite(s) && s > 0)) {
    throw new ModelError('invalid-volume', `spacing ${v.spacing.join(', ')} is not positive`, { path: 'spacing' });
  }
}

/**
 * Runs the model over the volume and returns labels on the model grid (x fastest). `onPatch`
 * reports patches done. Memory beyond the CT: the model-grid label bytes, one patch in and out,
 * and the sliding window's slab accumulator.
 */
export async function inferModelGrid(
  volume: SegmentationInput,
  manifest: ModelManifest,
  runner: PatchRunner,
  onPatch?: (done: number, total: number) => void,
): Promise<{ labels: Uint8Array; grid: ModelGrid; patches: number }> {
  checkVolume(volume);
  const { input, output } = manifest;
  const grid = modelGrid(volume, input.spacing, input.orientation);
  const plan = planWindows(grid.dims, input.patchSize, input.overlap, input.patchMargin, runner.fixedSpatialSize);
  const axes = tensorAxes(input.axes);
  const table = normalizationTable(input.normalization);
  const patchVoxels = plan.patch[0] * plan.patch[1] * plan.patch[2];
  const patchIn = new Float32Array(patchVoxels);
  const spatialDims = axes.map((m) => plan.patch[m]);
  const inputDims = input.rank === 5 ? [1, 1, ...spatialDims] : [1, ...spatialDims];
  const channels = output.kind === 'softmax' ? manifest.labels.length + 1 : output.kind === 'sigmoid' ? manifest.labels.length : 1;
  const plane = grid.dims[0] * grid.dims[1];
  const labels = new Uint8Array(plane * grid.dims[2]);
  const scratch = new Float32Array(plane * Math.min(plan.patch[2], grid.dims[2]));

  await slidingWindow({
    plan,
    channels,
    mode: output.kind === 'labels' ? 'heaviest' : 'mean',
    axes,
    runPatch: async (box) => {
      fillPatch(volume.hu, volume.dims, grid, box, axes, table, patchIn);
      const r = await runner.run(patchIn, inputDims);
      const expected = output.rank === 5 ? [1, channels, ...spatialDims] : [1, ...spatialDims];
      if (r.dims.length !== expected.length || r.dims.some((d, i) => d !== expected[i])) {
        throw new ModelError('inference-failed', `output "${output.name}" came back as [${r.dims.join(', ')}], expected [${expected.join(', ')}]`, { path: 'output' });
      }
      return r.data;
    },
    onSlab: (slab: Slab) => decideLabels(slab, output, manifest.labels.length, labels.subarray(slab.z0 * plane, slab.z1 * plane), scratch),
    ...(onPatch ? { onPatch } : {}),
  });
  return { labels, grid, patches: windowCount(plan) };
}

/** Everything after loading: inference, resampling back, post-processing, the summary. */
export async function segmentVolume(
  volume: SegmentationInput,
  manifest: ModelManifest,
  runner: PatchRunner,
  options: { sha256: string; loadMs?: number; onProgress?: ProgressCallback },
): Promise<SegmentationResult> {
  const progress = options.onProgress ?? (() => {});
  const t0 = performance.now();
  progress(PROGRESS.inferFrom, 'infer');
  const inferred = await inferModelGrid(volume, manifest, runner, (done, total) =>
    progress(PROGRESS.inferFrom + ((PROGRESS.inferTo - PROGRESS.inferFrom) * done) / total, 'infer'),
  );
  const t1 = performance.now();
  const ctLabels = labelsToCtGrid(inferred.labels, inferred.grid, volume.dims);
  progress(PROGRESS.resample, 'resample');
  const t2 = performance.now();
  const reports = postprocessLabels(ctLabels, volume, manifest.labels);
  const t3 = performance.now();
  const counts = new Float64Array(256);
  for (let i = 0; i < ctLabels.length; i++) counts[ctLabels[i]]++;
  const voxelMl = (volume.spacing[0] * volume.spacing[1] * volume.spacing[2]) / 1000;
  progress(PROGRESS.postprocess, 'done');
  const loadMs = options.loadMs ?? 0;
  return {
    labelMap: {
      dims: [...volume.dims],
      spacing: [...volume.spacing],
      origin: [...volume.origin],
      rowDirection: [...volume.rowDirection],
      columnDirection: [...volume.columnDirection],
      sliceDirection: [...volume.sliceDirection],
      labels: ctLabels,
    },
    modelId: manifest.id,
    modelName: manifest.name,
    algorithmVersion: manifest.algorithm.version,
    sha256: options.sha256,
    segments: manifest.labels.map((l) => ({ id: l.id, name: l.name, voxels: counts[l.id], volumeMl: counts[l.id] * voxelMl })),
    postprocess: reports,
    modelGrid: { dims: inferred.grid.dims, spacing: inferred.grid.spacing },
    patches: inferred.patches,
    timings: { loadMs, inferMs: t1 - t0, resampleMs: t2 - t1, postprocessMs: t3 - t2, totalMs: loadMs + (t3 - t0) },
  };
}
