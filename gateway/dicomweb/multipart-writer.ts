/**
 * Writing `multipart/related` bodies (RFC 2387) for WADO-RS, part by part as the client reads:
 * the next part is produced only when the socket has taken the previous one, so a study of a
 * thousand slices streams in the memory of one. A part that fails after the first byte went out
 * cannot change the status any more: the stream errors and the connection is cut, so the
 * client sees a truncated body (no close delimiter), never a wrong one.
 */
import { randomBytes } from 'node:crypto';

export interface Part {
  /** The part's Content-Type, parameters included. */
  contentType: string;
  body: Uint8Array;
  /** More header fields (Content-Location...). */
  headers?: Record<string, string>;
}

/** A boundary that cannot occur in DICOM bytes by accident (RFC 2046 §5.1.1: up to 70 characters). */
export function newBoundary(): string {
  return `limen-${randomBytes(16).toString('hex')}`;
}

/** The Content-Type of the whole body. */
export function multipartContentType(partType: string, boundary: string, extra: Record<string, string> = {}): string {
  const params = Object.entries(extra).map(([k, v]) => `; ${k}=${v}`).join('');
  return `multipart/related; type="${partType}"; boundary=${boundary}${params}`;
}

/** The body: each part as it comes from `parts`, then the close delimiter. */
export function multipartStream(parts: AsyncIterable<Part>, boundary: string, onError?: (err: unknown) => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = parts[Symbol.asyncIterator]();
  let first = true;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: IteratorResult<Part>;
      try {
        next = await iterator.next();
      } catch (err) {
        onError?.(err);
        // The server may print what the stream failed with: a bare message, the details are in our log.
        controller.error(new Error('multipart response cut short: a part could not be produced (see the dicomweb.retrieve.aborted log record)'));
        return;
      }
      if (next.done) {
        controller.enqueue(encoder.encode(`${first ? '' : '\r\n'}--${boundary}--\r\n`));
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(partHead(next.value, boundary, first)));
      controller.enqueue(next.value.body);
      first = false;
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/** The chunks of a whole body, for answers made before the status is sent (frames, bulk data, one instance). */
export function multipartChunks(parts: readonly Part[], boundary: string): Uint8Array[] {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  parts.forEach((p, i) => {
    chunks.push(encoder.encode(partHead(p, boundary, i === 0)), p.body);
  });
  chunks.push(encoder.encode(`${parts.length ? '\r\n' : ''}--${boundary}--\r\n`));
  return chunks;
}

/** The whole body in one array (tests, small answers). */
export function multipartBytes(parts: readonly Part[], boundary: string): Uint8Array {
  return Buffer.concat(multipartChunks(parts, boundary));
}

/**
 * A response whose body is bytes already in memory, given as chunks: nothing is copied into one
 * buffer (a frame is half a megabyte), and the length is known, so it is not sent chunked.
 */
export function bytesResponse(chunks: readonly Uint8Array[], contentType: string, headers: Headers = new Headers()): Response {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) if (c.length) controller.enqueue(c);
      controller.close();
    },
  });
  headers.set('content-type', contentType);
  headers.set('content-length', String(length));
  return new Response(body, { headers });
}

function partHead(p: Part, boundary: string, first: boolean): string {
  let head = `${first ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${p.contentType}\r\n`;
  for (const [name, value] of Object.entries(p.headers ?? {})) head += `${name}: ${value}\r\n`;
  return `${head}\r\n`;
}
