/**
 * The simplifier's worker thread: meshoptimizer (WebAssembly) runs here, not on the thread that
 * extracts and smooths. Each simplification grows the WebAssembly memory, and growing it detaches
 * the memory's previous ArrayBuffer; after the first detached buffer of a thread, V8's optimised
 * code checks every typed-array access for detachment from then on. Measured on the bone benchmark:
 * smoothing 25–35 % slower, the manifold check 25 % slower, once any buffer had been detached on
 * the thread. Here the detaching stays on this thread.
 */
import { parentPort } from 'node:worker_threads';
import { MeshoptSimplifier } from 'meshoptimizer';
import type { SimplifierMessage, SimplifyJob } from './simplifier-protocol.js';
import { uvSphere } from './uv-sphere.js';

/**
 * V8 first runs WebAssembly in its baseline tier and compiles a function with its optimising tier
 * only once it has run for a while; a call in progress keeps the code it started with. The
 * simplifier does all its work in one long call, so the first decimation of a thread ran entirely
 * on baseline code: measured on the 1.19 M-triangle bone benchmark mesh, 1.3–1.4 s of CPU against
 * 0.8–1.0 s for the calls after it. Simplifying this small sphere first (a few milliseconds) makes
 * V8 optimise the simplifier in the background, so the first real call runs optimised code too.
 */
const WARM_UP_MESH = { rings: 48, segments: 48 };

function simplify(job: SimplifyJob): { message: SimplifierMessage; transfer: ArrayBuffer[] } {
  const none = new Float32Array(0);
  if (job.updatePositions) {
    const { indices, positions } = job;
    const [count, error] = MeshoptSimplifier.simplifyWithUpdate(indices, positions, 3, none, 0, [], job.lock, job.targetIndexCount, job.maxError, ['ErrorAbsolute']);
    return {
      message: { type: 'done', id: job.id, indices: indices.subarray(0, count), positions, error },
      transfer: [indices.buffer as ArrayBuffer, positions.buffer as ArrayBuffer],
    };
  }
  const [indices, error] = MeshoptSimplifier.simplifyWithAttributes(job.indices, job.positions, 3, none, 0, [], job.lock, job.targetIndexCount, job.maxError, ['ErrorAbsolute']);
  return { message: { type: 'done', id: job.id, indices, error }, transfer: [indices.buffer as ArrayBuffer] };
}

async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  const post = (m: SimplifierMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
  if (!MeshoptSimplifier.supported) {
    post({ type: 'unsupported' });
    return;
  }
  await MeshoptSimplifier.ready;
  const sphere = uvSphere(WARM_UP_MESH.rings, WARM_UP_MESH.segments);
  simplify({ type: 'simplify', id: 0, ...sphere, targetIndexCount: Math.floor(sphere.indices.length / 30) * 3, maxError: 1e30, lock: null, updatePositions: true });
  port.on('message', (job: SimplifyJob) => {
    try {
      const { message, transfer } = simplify(job);
      post(message, transfer);
    } catch (e) {
      post({ type: 'failed', id: job.id, message: e instanceof Error ? e.message : String(e) });
    }
  });
  post({ type: 'ready' });
}

if (parentPort) await main(parentPort);
