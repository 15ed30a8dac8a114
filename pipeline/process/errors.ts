/** Why a study could not be processed: a code an admin can filter on and a reason they can read. */
export class PipelineError extends Error {
  override readonly name = 'PipelineError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
