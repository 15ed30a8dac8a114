/** Messages between `runPipelineInWorker` and its worker thread. */
import type { SeriesRule } from '../volume/index.js';
import type { PipelineErrorDetail } from './errors.js';
import type { PipelineOutput, PipelineStage } from './run-pipeline.js';

export interface PipelineWorkerData {
  /** Instance bytes, transferred (not copied) to the worker. */
  instances: ArrayBuffer[];
  modelDir: string;
  seriesRule?: Partial<SeriesRule>;
}

export type PipelineWorkerMessage =
  | { type: 'progress'; stage: PipelineStage; percent: number }
  | { type: 'done'; output: PipelineOutput }
  | { type: 'error'; code?: string; message: string; detail?: PipelineErrorDetail };

/** What the caller tells the worker while it runs. */
export type PipelineWorkerCommand = { type: 'stop' };
