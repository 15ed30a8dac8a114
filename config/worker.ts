import { z } from 'zod';

/** Segmentation saturates the CPU; one job at a time unless the machine has room. */
export const DEFAULT_WORKER_CONCURRENCY = 1;
/** How often an idle worker looks for queued jobs. */
export const DEFAULT_WORKER_POLL_INTERVAL_MS = 1000;

/** The job worker (processing of complete studies). */
export const workerSchema = z.strictObject({
  /** False for a process that only receives and serves; another process then runs the jobs. */
  enabled: z.boolean().default(true),
  concurrency: z.number().int().min(1).max(64).default(DEFAULT_WORKER_CONCURRENCY),
  pollIntervalMs: z.number().int().min(50).max(600000).default(DEFAULT_WORKER_POLL_INTERVAL_MS),
});

export type WorkerConfig = z.output<typeof workerSchema>;
