/**
 * HTTP errors carry their status, as hono's HTTPException does, plus a stable `code`. Every
 * error body is JSON `{ error: { code, message } }`, so clients branch on `code`.
 */
import { HTTPException } from 'hono/http-exception';
import type { ClientErrorStatusCode, ServerErrorStatusCode } from 'hono/utils/http-status';

export type ErrorStatus = ClientErrorStatusCode | ServerErrorStatusCode;

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

export class HttpError extends HTTPException {
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly details: Record<string, unknown>;
  constructor(
    status: ErrorStatus,
    code: string,
    message: string,
    extra: { headers?: Record<string, string>; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(status, { message, cause: extra.cause });
    this.name = 'HttpError';
    this.code = code;
    this.headers = extra.headers ?? {};
    this.details = extra.details ?? {};
  }

  override getResponse(): Response {
    return errorResponse(this.status as ErrorStatus, this.code, this.message, this.headers, this.details);
  }
}

/** A JSON error response. */
export function errorResponse(
  status: ErrorStatus,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  details: Record<string, unknown> = {},
): Response {
  const body: ErrorBody = { error: { ...details, code, message } };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}
