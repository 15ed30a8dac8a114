// Entry of the pipeline worker when Limen runs from TypeScript sources (tests, development): a
// worker thread does not inherit tsx's loader hooks, so it registers them first. The compiled
// build starts pipeline-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./pipeline-worker.ts');
