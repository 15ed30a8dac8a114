/**
 * Segmentation: a CT volume through a model to a post-processed label map on the CT grid. The
 * model runs in a worker thread (`segmentInWorker`); `segmentVolume` is the same work in the
 * calling thread, for tools and tests.
 */
export { segmentInWorker, type SegmentInWorkerOptions } from './segment-in-worker.js';
export {
  segmentVolume,
  inferModelGrid,
  checkVolume,
  type PatchRunner,
  type SegmentationInput,
  type SegmentationResult,
  type SegmentationStage,
  type SegmentationTimings,
  type SegmentSummary,
  type ProgressCallback,
} from './segment-volume.js';
export { onnxRunner } from './onnx-runner.js';
export { modelGrid, axisAssignment, type ModelGrid, type AxisMap } from './grid.js';
export { fillPatch, labelsToCtGrid, tensorAxes, type PatchBox, type TensorAxes } from './resample.js';
export { normalizationTable } from './normalize.js';
export {
  slidingWindow,
  planWindows,
  windowStarts,
  windowCount,
  axisWeights,
  GAUSSIAN_SIGMA_SCALE,
  type WindowPlan,
  type Slab,
  type BlendMode,
  type SlidingWindowOptions,
} from './sliding-window.js';
export { decideLabels } from './decide.js';
