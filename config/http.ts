import { z } from 'zod';
import { hostSchema, portSchema } from './addresses.js';

/** Loopback by default: exposing the HTTP API is an explicit decision. */
export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 8080;
/** STOW-RS per-instance cap; a larger part is answered 413. 512 MiB holds a large multi-frame CT. */
export const DEFAULT_MAX_INSTANCE_BYTES = 512 * 1024 * 1024;
/** STOW-RS requests read at once: each holds about five instances in memory while it runs. */
export const DEFAULT_MAX_CONCURRENT_STOW_REQUESTS = 8;

/** HTTPS on the same host and port, with the DIMSE listener's TLS profile. PEM files, read at start and on SIGHUP. */
export const httpTlsSchema = z.strictObject({
  /** The server certificate, followed by any intermediate certificates clients need. */
  certificateFile: z.string().min(1),
  /** Its private key, unencrypted. */
  privateKeyFile: z.string().min(1),
});

/** The HTTP listener (DICOMweb, REST API, dashboard, viewer). */
export const httpSchema = z.strictObject({
  host: hostSchema.default(DEFAULT_HTTP_HOST),
  port: portSchema.default(DEFAULT_HTTP_PORT),
  maxInstanceBytes: z.number().int().min(1024).default(DEFAULT_MAX_INSTANCE_BYTES),
  /** STOW-RS requests read at once (each holds a few instances in memory); more wait, then get 503. */
  maxConcurrentStowRequests: z.number().int().min(1).max(1000).default(DEFAULT_MAX_CONCURRENT_STOW_REQUESTS),
  /** Absent: plain HTTP, for loopback or behind a TLS proxy. */
  tls: httpTlsSchema.optional(),
});

export type HttpTlsConfig = z.output<typeof httpTlsSchema>;
export type HttpConfig = z.output<typeof httpSchema>;
