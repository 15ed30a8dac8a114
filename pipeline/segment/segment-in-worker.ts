/**
 * Segmentation off the event loop: a worker thread per call loads the model, infers and
 * post-processes, while the caller's thread keeps serving HTTP and DIMSE.
 */
import { Worker } from 'node:worker_threads';
import { ModelError, type ModelErrorCode } from '../models/errors.js';
import type { CtVolume } from '../volume/types.js';
import { checkVolume, type ProgressCallback, type SegmentationResult } from './segment-volume.js';
import type { WorkerJob, WorkerMessage } from './worker-protocol.js';

export interface SegmentInWorkerOptions {
  /**
   * Aborting rejects the promise with the signal's reason at once; the worker ends by itself before
   * its next patch. It is not terminated: a thread stopped inside onnxruntime takes the whole
   * process down (node-addon-api throws into its native frames, and C++ terminates).
   */
  signal?: AbortSignal;
  /** onnxruntime intra-op threads (default: all cores). */
  intraOpNumThreads?: number;
}

// Under tsx (tests, development) this module is TypeScript; its worker then starts through a
// small entry that registers tsx in the worker thread.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker-tsx.mjs' : './worker.js', import.meta.url);

/**
 * Segments `volume` with the model in `modelDir` in a worker thread. `onProgress` gets the overall
 * percentage and stage. The volume's HU are shared without copying when they live in a
 * SharedArrayBuffer, copied otherwise; the label map comes back without a copy.
 */
export function segmentInWorker(
  volume: Pick<CtVolume, 'hu' | 'dims' | 'spacing' | 'origin' | 'rowDirection' | 'columnDirection' | 'sliceDirection'>,
  modelDir: string,
  onProgress?: ProgressCallback,
  options: SegmentInWorkerOptions = {},
): Promise<SegmentationResult> {
  const job: WorkerJob = {
    modelDir,
    geometry: {
      dims: volume.dims,
      spacing: volume.spacing,
      origin: volume.origin,
      rowDirection: volume.rowDirection,
      columnDirection: volume.columnDirection,
      sliceDirection: volume.sliceDirection,
    },
    // Cloning a view clones its whole buffer: hand over just the view when it is part of a larger one.
    hu: volume.hu.buffer instanceof SharedArrayBuffer || volume.hu.byteLength === volume.hu.buffer.byteLength ? volume.hu : volume.hu.slice(),
    ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
    stop: new Int32Array(new SharedArrayBuffer(4)),
  };
  return new Promise<SegmentationResult>((resolvePromise, reject) => {
    try {
      checkVolume(volume);
    } catch (e) {
      reject(e);
      return;
    }
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const worker = new Worker(WORKER_URL, { workerData: job });
    let settled = false;
    // The worker is never terminated: it ends by itself once it has posted its answer and released
    // the model (terminated inside onnxruntime's run or release, it would take the process down).
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = (): void => {
      Atomics.store(job.stop, 0, 1);
      finish(() => reject(options.signal?.reason));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress?.(m.percent, m.stage);
      else if (m.type === 'done') finish(() => resolvePromise(m.result));
      else finish(() => reject(toError(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(new ModelError('inference-failed', `the segmentation worker failed: ${e.message}`, { cause: e }))));
    worker.on('exit', (code) => finish(() => reject(new ModelError('inference-failed', `the segmentation worker exited (code ${code}) without a result`))));
  });
}

function toError(e: { name: string; code?: string; path?: string; message: string }): Error {
  if (e.name === 'ModelError' && e.code) return new ModelError(e.code as ModelErrorCode, e.message, e.path ? { path: e.path } : {});
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
