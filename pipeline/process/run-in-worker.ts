/**
 * `runPipeline` in a worker thread, so a study's assembly, meshing and file writing never stall
 * the gateway's event loop (ONNX inference already runs in a thread of its own).
 */
import { Worker } from 'node:worker_threads';
import type { SeriesRule } from '../volume/index.js';
import { PipelineError } from './errors.js';
import type { PipelineWorkerCommand, PipelineWorkerData, PipelineWorkerMessage } from './pipeline-worker-protocol.js';
import type { PipelineOutput, PipelineStage } from './run-pipeline.js';

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './pipeline-worker-tsx.mjs' : './pipeline-worker.js', import.meta.url);

export interface WorkerPipelineInput {
  instances: ReadonlyArray<{ bytes: Uint8Array }>;
  modelDir: string;
  seriesRule?: Partial<SeriesRule>;
  onProgress?: (stage: PipelineStage, percent: number) => void;
  /**
   * Aborting it rejects the promise at once (the gateway stops); the worker is told to stop and
   * ends by itself, never terminated inside onnxruntime's run (see `segmentInWorker`).
   */
  signal?: AbortSignal;
}

export function runPipelineInWorker(input: WorkerPipelineInput): Promise<PipelineOutput> {
  // Each instance gets a buffer of its own, transferred: the worker owns it, no second copy stays
  // here. Copied by the typed-array constructor: a Buffer's slice() is a view, whose .buffer may be
  // a larger one (Node's pool, for a small blob) holding other bytes before and after it.
  const instances = input.instances.map((i) => new Uint8Array(i.bytes).buffer as ArrayBuffer);
  const data: PipelineWorkerData = { instances, modelDir: input.modelDir, seriesRule: input.seriesRule };
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: data, transferList: instances });
    let settled = false;
    // Never terminated: its segmentation thread may be inside onnxruntime (see `segmentInWorker`);
    // it ends by itself once it has answered, or stopped.
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
    };
    worker.on('message', (m: PipelineWorkerMessage) => {
      if (m.type === 'progress') input.onProgress?.(m.stage, m.percent);
      else if (m.type === 'done') settle(() => resolve(m.output));
      else settle(() => reject(m.code ? new PipelineError(m.code, m.message, m.detail) : new Error(m.message)));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => settle(() => reject(new Error(`the pipeline worker exited (${code}) before it finished`))));
    const onAbort = () => {
      worker.postMessage({ type: 'stop' } satisfies PipelineWorkerCommand);
      settle(() => reject(new Error('the pipeline was stopped before it finished')));
    };
    if (input.signal?.aborted) onAbort();
    else input.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('exit', () => input.signal?.removeEventListener('abort', onAbort));
  });
}
