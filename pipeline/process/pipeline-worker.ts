/**
 * The worker thread's side of `runPipelineInWorker`: runs the whole pipeline (volume assembly,
 * segmentation, SEG, meshing, files) away from the thread that serves HTTP and DIMSE.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PipelineError } from './errors.js';
import { runPipeline } from './run-pipeline.js';
import { randomUID } from './uid.js';
import type { PipelineWorkerCommand, PipelineWorkerData, PipelineWorkerMessage } from './pipeline-worker-protocol.js';

const data = workerData as PipelineWorkerData;
const post = (m: PipelineWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

// A stop from the caller ends the run where it can end safely; listening keeps the thread no longer than the run.
const stopping = new AbortController();
parentPort!.on('message', (m: PipelineWorkerCommand) => {
  if (m.type === 'stop') stopping.abort(new Error('the pipeline was stopped before it finished'));
});
parentPort!.unref();

runPipeline({
  instances: data.instances.map((b) => ({ bytes: new Uint8Array(b) })),
  modelDir: data.modelDir,
  seriesRule: data.seriesRule,
  newUID: randomUID,
  onProgress: (stage, percent) => post({ type: 'progress', stage, percent }),
  signal: stopping.signal,
}).then(
  (out) => {
    const buffers = [out.seg, out.glb, out.combinedStl, ...out.stls.map((s) => s.bytes)].map((b) => b.buffer as ArrayBuffer);
    post({ type: 'done', output: { ...out, volume: { studyInstanceUID: out.volume.studyInstanceUID, seriesInstanceUID: out.volume.seriesInstanceUID } } }, [...new Set(buffers)]);
  },
  (err: Error) => post(err instanceof PipelineError ? { type: 'error', code: err.code, message: err.message, detail: err.detail } : { type: 'error', message: err.message }),
);
