/**
 * The segmentation worker thread: loads the model, runs it and post-processes, then posts the
 * label map back (its buffer transferred, not copied). onnxruntime blocks this thread, not the
 * gateway's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadModel } from '../models/registry.js';
import { onnxRunner } from './onnx-runner.js';
import { segmentVolume, type PatchRunner } from './segment-volume.js';
import type { WorkerJob, WorkerMessage } from './worker-protocol.js';

async function main(port: NonNullable<typeof parentPort>, job: WorkerJob): Promise<void> {
  const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  try {
    post({ type: 'progress', percent: 0, stage: 'load' });
    const t0 = performance.now();
    const model = await loadModel(job.modelDir, job.intraOpNumThreads ? { intraOpNumThreads: job.intraOpNumThreads } : {});
    const loadMs = performance.now() - t0;
    try {
      const runner = onnxRunner(model);
      // Between patches, never inside one: the caller has stopped waiting.
      const stoppable: PatchRunner = { ...runner, run: (data, dims) => (Atomics.load(job.stop, 0) ? Promise.reject(new Error('segmentation stopped')) : runner.run(data, dims)) };
      const result = await segmentVolume({ ...job.geometry, hu: job.hu }, model.manifest, stoppable, {
        sha256: model.sha256,
        loadMs,
        onProgress: (percent, stage) => post({ type: 'progress', percent, stage }),
      });
      post({ type: 'done', result }, [result.labelMap.labels.buffer as ArrayBuffer]);
    } finally {
      await model.close();
    }
  } catch (e) {
    const err = e as Error & { code?: string; path?: string };
    post({
      type: 'error',
      error: { name: err.name ?? 'Error', message: err.message ?? String(e), ...(err.code ? { code: err.code } : {}), ...(err.path ? { path: err.path } : {}) },
    });
  }
}

if (parentPort) await main(parentPort, workerData as WorkerJob);
