export type { IngestSource, IngestInstance, IngestFailureCode, IngestOutcome, InstanceIngest } from './types.js';
export { EdgeIngest, type EdgeIngestDeps } from './edge-ingest.js';
export { compileRoutes, routeIssues, type CompiledRoute, type RouteIssue, type RouteSpec } from './routes.js';
export { ReceiveMemory, HeldInstance } from './receive-memory.js';
