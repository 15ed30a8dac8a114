/**
 * SEG errors are data: a stable `code` callers branch on (the worker turns them into a failed
 * study with a readable reason), a `path` naming the offending input, and a message that never
 * carries identified values.
 */
export type SegErrorCode =
  /** An input is malformed: lengths that disagree, a bad UID, a value too long for its VR... */
  | 'invalid-input'
  /** The label map holds a label value that no segment description names. */
  | 'unknown-label'
  /** No segment has a single voxel: there is nothing to write. */
  | 'empty-segmentation'
  /** Bytes that are not a Segmentation instance, or one with missing or contradictory attributes. */
  | 'not-a-segmentation'
  /** A valid Segmentation this reader does not handle (FRACTIONAL, LABELMAP, compressed frames). */
  | 'unsupported-segmentation'
  /** A frame does not lie on the grid it is being unpacked onto. */
  | 'geometry-mismatch';

/** An error raised by `pipeline/seg/`. */
export class SegError extends Error {
  override readonly name = 'SegError';
  readonly code: SegErrorCode;
  readonly path?: string;

  constructor(code: SegErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.path !== undefined) this.path = options.path;
  }
}

/** True when `err` is a SegError, optionally with the given code. */
export function isSegError(err: unknown, code?: SegErrorCode): err is SegError {
  return err instanceof SegError && (code === undefined || err.code === code);
}
