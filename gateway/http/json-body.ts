/**
 * A request body that must be a JSON object: anything else (not JSON, `null`, an array, a number)
 * is a 400 `bad-json` whose message says what the body should be.
 */
import type { Context } from 'hono';
import { HttpError } from './errors.js';

/** `usage` is the message of the 400; `emptyIs` stands for an empty body, which is a 400 without it. */
export async function jsonObjectBody(c: Context, usage: string, emptyIs?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const text = await c.req.text();
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
