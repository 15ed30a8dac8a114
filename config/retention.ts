import { z } from 'zod';

/** How often expired studies are to be looked for and destroyed (no sweep runs yet). */
export const DEFAULT_RETENTION_SWEEP_INTERVAL_MINUTES = 60;

/**
 * The retention sweep; the retention period itself is per route (`routes.<name>.retentionDays`).
 * Not built yet: each study's expiry is recorded, nothing is destroyed (`configWarnings` says so).
 */
export const retentionSchema = z.strictObject({
  /** False for a process that leaves the sweep to another. */
  enabled: z.boolean().default(true),
  sweepIntervalMinutes: z.number().positive().max(1440).default(DEFAULT_RETENTION_SWEEP_INTERVAL_MINUTES),
});

export type RetentionConfig = z.output<typeof retentionSchema> & {
  /**
   * The retention settings the configuration writes (`routes.ct.retentionDays`, and `retention` for this section),
   * which nothing acts on yet: an operator who set them is warned.
   */
  written: readonly string[];
};
