/**
 * Each route's documentation sits next to its handler as data, so the reference can be
 * generated and a test can check that no registered route is undocumented.
 */
import type { Role } from './types.js';

export interface RouteDoc {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Hono path pattern, as registered (e.g. `/api/v1/studies/:uid`). */
  path: string;
  summary: string;
  /** Roles allowed; absent for an unauthenticated route. */
  roles?: readonly Role[];
  /** Status codes and what they mean for this route. */
  responses: Readonly<Record<number, string>>;
  /** Media types of the request body and of a successful response, where they are the point (DICOMweb). */
  media?: { request?: readonly string[]; response: readonly string[] };
}
