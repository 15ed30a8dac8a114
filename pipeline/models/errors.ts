/**
 * Model errors are data: a stable `code` callers branch on, the model's path (its directory, a
 * manifest field, a graph value) and a message that says what was wrong.
 */
export type ModelErrorCode =
  /** The model directory or one of its three files is missing or unreadable. */
  | 'missing-file'
  /** manifest.json is not JSON or does not match the schema. */
  | 'invalid-manifest'
  /** model.onnx does not have the SHA-256 the manifest states. */
  | 'checksum-mismatch'
  /** onnxruntime could not open model.onnx. */
  | 'invalid-onnx'
  /** The manifest and the graph disagree (names, ranks, channel count). */
  | 'graph-mismatch'
  /** Inference failed, or the model produced output of the wrong size or type. */
  | 'inference-failed'
  /** The volume cannot be segmented (empty, malformed geometry). */
  | 'invalid-volume';

/** An error raised by `pipeline/models/` or `pipeline/segment/`. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
  readonly code: ModelErrorCode;
  readonly path?: string;

  constructor(code: ModelErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.path !== undefined) this.path = options.path;
  }
}

/** True when `err` is a ModelError, optionally with the given code. */
export function isModelError(err: unknown, code?: ModelErrorCode): err is ModelError {
  return err instanceof ModelError && (code === undefined || err.code === code);
}
