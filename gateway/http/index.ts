export { createHttpApp, httpRouteDocs } from './app.js';
export { HttpService, HttpServiceError, DEFAULT_STOP_TIMEOUT_MS } from './server.js';
export type { HttpServiceOptions, ServiceStatus } from './server.js';
export { actorOf, bearerAuth } from './auth.js';
export type { BearerAuthOptions, AuthRefusal } from './auth.js';
export { HttpError, errorResponse } from './errors.js';
export { jsonObjectBody } from './json-body.js';
export { remoteAddressOf } from './remote-address.js';
export type { ErrorBody, ErrorStatus } from './errors.js';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './studies.js';
export { HttpLog, logAuthRefusals } from './messages.js';
export type { RouteDoc } from './route-doc.js';
export { DEFAULT_MAX_INSTANCE_BYTES } from './types.js';
export type {
  AppEnv,
  AppVariables,
  HttpAppDeps,
  HttpAppOptions,
  Identity,
  Readiness,
  ReadinessCheck,
  Role,
  StudyDirectory,
  StudySummary,
  TokenVerifier,
} from './types.js';
