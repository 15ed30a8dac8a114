/**
 * meshoptimizer's edge-collapse simplifier, run on a worker thread of its own (why: see
 * simplifier-worker.ts). One worker serves the process; it is started by the first
 * `prepareDecimation` and keeps the process alive only while it starts or works. The mesh goes to it as a
 * copy: handing the buffers over (transferring them) would detach them on this thread, the very
 * thing the worker is there to avoid.
 */
import { Worker } from 'node:worker_threads';
import { MeshError } from './errors.js';
import type { SimplifierMessage, SimplifyJob } from './simplifier-protocol.js';
import type { TriangleMesh } from './types.js';

/** The simplifier's output: indices into `positions` (which may hold vertices no index uses). */
export interface Simplified {
  readonly indices: Uint32Array;
  readonly positions: Float32Array;
  /** meshoptimizer's estimate of the largest deviation from the input surface, in millimetres. */
  readonly error: number;
}

// Under tsx (tests, development) this module is TypeScript; its worker then starts through a
// small entry that registers tsx in the worker thread.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './simplifier-worker-tsx.mjs' : './simplifier-worker.js', import.meta.url);

interface Pending {
  resolve(m: Extract<SimplifierMessage, { type: 'done' }>): void;
  reject(e: Error): void;
}

let worker: Worker | null = null;
let ready: Promise<void> | null = null;
const pending = new Map<number, Pending>();
let nextId = 1;

/**
 * Starts the simplifier's worker (once per process) and resolves when meshoptimizer is compiled
 * and warmed up there. Rejects with `decimator-unavailable` where WebAssembly is missing or the
 * worker fails. Awaited by `decimateMesh`; calling it before extracting and smoothing (as
 * `meshSegment` does) lets the worker get ready meanwhile.
 */
export function prepareDecimation(): Promise<void> {
  ready ??= start();
  return ready;
}

function start(): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const w = new Worker(WORKER_URL);
    worker = w;
    const fail = (error: MeshError): void => {
      // A later call starts a new worker.
      if (worker === w) {
        worker = null;
        ready = null;
      }
      reject(error);
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    };
    w.on('message', (m: SimplifierMessage) => {
      if (m.type === 'ready') {
        // Idle from now on until a job comes: the process may exit meanwhile.
        if (pending.size === 0) w.unref();
        resolve();
      } else if (m.type === 'unsupported') {
        fail(new MeshError('decimator-unavailable', 'meshoptimizer needs WebAssembly, which this runtime lacks'));
        void w.terminate();
      } else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (pending.size === 0) w.unref();
        if (m.type === 'done') p?.resolve(m);
        else p?.reject(new Error(`meshoptimizer failed: ${m.message}`));
      }
    });
    w.on('error', (e) => fail(new MeshError('decimator-unavailable', `the simplifier's worker failed: ${e.message}`, { cause: e })));
    w.on('exit', (code) => fail(new MeshError('decimator-unavailable', `the simplifier's worker exited (code ${code})`)));
  });
}

/**
 * Simplifies to about `targetIndexCount` indices, stopping early at `maxError` millimetres.
 * `lock` (one byte per vertex, 1 = keep) pins vertices in place. With `updatePositions` the kept
 * vertices move to their quadric-optimal positions (in a copy), else they stay input vertices.
 * The mesh's own arrays are left as they are.
 */
export async function simplify(mesh: TriangleMesh, targetIndexCount: number, maxError: number, lock: Uint8Array | null, updatePositions: boolean): Promise<Simplified> {
  await prepareDecimation();
  const w = worker;
  if (w === null) throw new MeshError('decimator-unavailable', "the simplifier's worker is not running");
  const id = nextId++;
  const job: SimplifyJob = { type: 'simplify', id, indices: whole(mesh.indices), positions: whole(mesh.positions), targetIndexCount, maxError, lock, updatePositions };
  const done = await new Promise<Extract<SimplifierMessage, { type: 'done' }>>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref();
    w.postMessage(job);
  });
  return { indices: done.indices, positions: done.positions ?? mesh.positions, error: done.error };
}

/** Posting a view copies its whole buffer: a view into a much larger buffer is copied out first. */
function whole<T extends Uint32Array | Float32Array>(a: T): T {
  return a.buffer.byteLength - a.byteLength <= 65536 ? a : (a.slice() as T);
}
