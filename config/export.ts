import { z } from 'zod';

/** Waits between delivery attempts; after the last, the export is marked failed. */
export const DEFAULT_EXPORT_RETRY_DELAYS_SECONDS: readonly number[] = Object.freeze([10, 60, 300, 900, 3600]);
/** One delivery attempt (association or HTTP request) is abandoned after this long. */
export const DEFAULT_EXPORT_TIMEOUT_SECONDS = 120;

/** The exporter that delivers approved results to destinations. */
export const exportSchema = z.strictObject({
  retryDelaysSeconds: z
    .array(z.number().positive().max(86400))
    .max(100)
    .default(() => [...DEFAULT_EXPORT_RETRY_DELAYS_SECONDS]),
  timeoutSeconds: z.number().positive().max(3600).default(DEFAULT_EXPORT_TIMEOUT_SECONDS),
});

export type ExportConfig = z.output<typeof exportSchema>;
