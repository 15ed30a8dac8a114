/**
 * A request body that must be a JSON object: anything else (not JSON, `null`, an array, a number)
 * is a 400 `bad-json` whose message says what the body should be. Read up to a limit, so that
 * no client can make the process hold an unbounded body: past it, 413.
 */
import type { Context } from 'hono';
import { HttpError } from './errors.js';

/** Far above any decision or request the API takes (a review comment of a few pages). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** `usage` is the message of the 400; `emptyIs` stands for an empty body, which is a 400 without it. */
export async function jsonObjectBody(c: Context, usage: string, emptyIs?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const text = await boundedText(c.req.raw);
  if (!text.trim() && emptyIs) return emptyIs;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad-json', usage);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'bad-json', usage);
  return body as Record<string, unknown>;
}

async function boundedText(request: Request): Promise<string> {
  const tooLarge = () => new HttpError(413, 'body-too-large', `the body is larger than ${MAX_JSON_BODY_BYTES} bytes`, { headers: { connection: 'close' } });
  if (Number(request.headers.get('content-length') ?? 0) > MAX_JSON_BODY_BYTES) throw tooLarge();
  if (!request.body) return '';
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > MAX_JSON_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
