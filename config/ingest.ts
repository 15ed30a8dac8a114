import { z } from 'zod';

/** Room for many CT slices and a few multi-frame instances of hundreds of megabytes at once. */
export const DEFAULT_RECEIVE_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;

/** What every receiver (DIMSE C-STORE, STOW-RS) shares. */
export const ingestSchema = z.strictObject({
  /**
   * Bytes of received instances held in memory at once, all associations and requests together.
   * An instance that does not fit fails alone as out of resources (DIMSE A700, STOW-RS 0xA700),
   * to be sent again; one instance alone always fits (`http.maxInstanceBytes` bounds it).
   */
  receiveMemoryBytes: z.number().int().min(16 * 1024 * 1024).default(DEFAULT_RECEIVE_MEMORY_BYTES),
});

export type IngestConfig = z.output<typeof ingestSchema>;
