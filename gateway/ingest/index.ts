export type { IngestSource, IngestInstance, IngestFailureCode, IngestOutcome, InstanceIngest } from './types.js';
export { EdgeIngest, type EdgeIngestDeps } from './edge-ingest.js';
export { compileRoutes, type CompiledRoute, type RouteIssue } from './routes.js';
export { ReceiveMemory, HeldInstance } from './receive-memory.js';
