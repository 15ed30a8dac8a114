import type { RefusedSeries } from './assemble-first.js';

/** What a PipelineError carries beyond its code and message, for callers that report it as data. */
export interface PipelineErrorDetail {
  /** Every series tried and refused at assembly, in the order tried, when that is why the run failed. */
  refusedSeries?: RefusedSeries[];
}

/** Why a study could not be processed: a code an admin can filter on and a reason they can read. */
export class PipelineError extends Error {
  override readonly name = 'PipelineError';
  constructor(
    readonly code: string,
    message: string,
    readonly detail: PipelineErrorDetail = {},
  ) {
    super(message);
  }
}
