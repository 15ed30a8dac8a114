/** Messages between `simplifier.ts` and the simplifier's worker thread. */

/** One simplification. The arrays are the worker's own copies. */
export interface SimplifyJob {
  readonly type: 'simplify';
  readonly id: number;
  readonly indices: Uint32Array;
  readonly positions: Float32Array;
  readonly targetIndexCount: number;
  readonly maxError: number;
  /** One byte per vertex, 1 = keep in place; null: none locked. */
  readonly lock: Uint8Array | null;
  readonly updatePositions: boolean;
}

export type SimplifierMessage =
  /** meshoptimizer is compiled and warmed up. */
  | { readonly type: 'ready' }
  /** This runtime lacks WebAssembly. */
  | { readonly type: 'unsupported' }
  /** `positions` is present when the positions were updated; else the input's stand. */
  | { readonly type: 'done'; readonly id: number; readonly indices: Uint32Array; readonly positions?: Float32Array; readonly error: number }
  | { readonly type: 'failed'; readonly id: number; readonly message: string };
