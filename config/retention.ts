import { z } from 'zod';

/** How often expired studies are looked for and destroyed. */
export const DEFAULT_RETENTION_SWEEP_INTERVAL_MINUTES = 60;

/** The retention sweep; the retention period itself is per route (`routes.<name>.retentionDays`). */
export const retentionSchema = z.strictObject({
  /** False for a process that leaves the sweep to another. */
  enabled: z.boolean().default(true),
  sweepIntervalMinutes: z.number().positive().max(1440).default(DEFAULT_RETENTION_SWEEP_INTERVAL_MINUTES),
});

export type RetentionConfig = z.output<typeof retentionSchema>;
