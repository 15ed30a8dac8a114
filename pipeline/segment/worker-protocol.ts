/** Messages between `segmentInWorker` and its worker thread. */
import type { VolumeGeometry } from '../volume/types.js';
import type { SegmentationResult, SegmentationStage } from './segment-volume.js';

/** What the worker starts with. `hu` is shared (SharedArrayBuffer) or a copy. */
export interface WorkerJob {
  modelDir: string;
  geometry: VolumeGeometry;
  hu: Int16Array;
  intraOpNumThreads?: number;
  /** Set to 1 (shared memory) when the caller stops: the worker ends before its next patch. */
  stop: Int32Array;
}

/** A ModelError (or other error) as it crosses the thread boundary. */
export interface WorkerError {
  name: string;
  code?: string;
  path?: string;
  message: string;
}

export type WorkerMessage =
  | { type: 'progress'; percent: number; stage: SegmentationStage }
  | { type: 'done'; result: SegmentationResult }
  | { type: 'error'; error: WorkerError };
