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

/**
 * The address clients reach Limen at, when a proxy stands in front (TLS terminated there, another
 * host name or port): an origin, `https://pacs.hospital.example` or `http://host:8080`. It starts
 * the URLs Limen writes into its answers (DICOMweb's BulkDataURI and RetrieveURL, the Warning and
 * capabilities base), and an https one marks the session cookie Secure. Sub-paths are not
 * supported: Limen is served at the root of its origin.
 */
export const publicUrlSchema = z
  .string()
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an absolute URL such as https://pacs.hospital.example` });
      return;
    }
    const fault =
      url.protocol !== 'https:' && url.protocol !== 'http:'
        ? `its scheme is ${url.protocol.slice(0, -1)}, not http or https`
        : url.username || url.password
          ? 'it holds credentials'
          : url.pathname !== '/' || url.search || url.hash || /[?#]/.test(value)
            ? 'it has a path, query or fragment: give the origin only (Limen is served at the root)'
            : undefined;
    if (fault) ctx.addIssue({ code: 'custom', message: `"${value}" is not an origin Limen can be reached at: ${fault}` });
  })
  .transform((value) => new URL(value).origin);

/** The HTTP listener (DICOMweb, REST API, dashboard, viewer). */
export const httpSchema = z.strictObject({
  host: hostSchema.default(DEFAULT_HTTP_HOST),
  port: portSchema.default(DEFAULT_HTTP_PORT),
  maxInstanceBytes: z.number().int().min(1024).default(DEFAULT_MAX_INSTANCE_BYTES),
  /** STOW-RS requests read at once (each holds a few instances in memory); more wait, then get 503. */
  maxConcurrentStowRequests: z.number().int().min(1).max(1000).default(DEFAULT_MAX_CONCURRENT_STOW_REQUESTS),
  /** Absent: plain HTTP, for loopback or behind a TLS proxy. */
  tls: httpTlsSchema.optional(),
  /** Absent: the origin each request was made to. */
  publicUrl: publicUrlSchema.optional(),
});

export type HttpTlsConfig = z.output<typeof httpTlsSchema>;
export type HttpConfig = z.output<typeof httpSchema>;
