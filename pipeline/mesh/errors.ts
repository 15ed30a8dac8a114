/**
 * Meshing errors are data: a stable `code` callers branch on, an optional `path` naming the
 * offending input (an option, a segment label) and a message that never carries identified values.
 */
export type MeshErrorCode =
  /** The mask, dims or an option is malformed (wrong length, non-positive spacing...). */
  | 'invalid-input'
  /** The patient geometry is unusable (direction cosines not unit or not orthogonal). */
  | 'invalid-geometry'
  /** A mesh that must be closed and manifold is not (reported with the defect counts). */
  | 'not-manifold'
  /** The decimator could not be loaded (WebAssembly unavailable). */
  | 'decimator-unavailable';

/** An error raised by `pipeline/mesh/` or `pipeline/models3d/`. */
export class MeshError extends Error {
  override readonly name = 'MeshError';
  readonly code: MeshErrorCode;
  readonly path?: string;

  constructor(code: MeshErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.path !== undefined) this.path = options.path;
  }
}

/** True when `err` is a MeshError, optionally with the given code. */
export function isMeshError(err: unknown, code?: MeshErrorCode): err is MeshError {
  return err instanceof MeshError && (code === undefined || err.code === code);
}
