// Entry of the simplifier's worker when Limen runs from TypeScript sources (tests, development):
// a worker thread does not inherit tsx's loader hooks, so it registers them before loading the
// worker. The compiled build starts simplifier-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./simplifier-worker.ts');
