/**
 * STOW-RS log messages with stable IDs. Never the sender's UIDs (they are the original,
 * identifying ones) nor the request path (it may hold an original Study Instance UID).
 */
import type { LogRecord } from '../log/index.js';

export const StowLog = {
  completed: (f: { requestId: string; route: string; tokenUser?: string; tokenId: string; remoteAddress?: string; stored: number; failed: number; status: number }): LogRecord => ({
    id: 'stow.request.completed',
    msg: `STOW-RS request: ${f.stored} stored, ${f.failed} failed`,
    ...f,
  }),
  refused: (f: { requestId: string; status: number; code: string; stored: number; part?: number }): LogRecord => ({
    id: 'stow.request.refused',
    msg: `STOW-RS request refused (${f.code})`,
    ...f,
  }),
  busy: (f: { requestId: string; maxConcurrent: number }): LogRecord => ({
    id: 'stow.request.busy',
    msg: `STOW-RS request answered 503: ${f.maxConcurrent} others were being stored for too long`,
    ...f,
  }),
  instanceFailed: (f: { requestId: string; part: number; failureReason: string; code: string }): LogRecord => ({
    id: 'stow.instance.failed',
    msg: `STOW-RS part ${f.part} not stored (${f.code})`,
    ...f,
  }),
  ingestThrew: (f: { requestId: string; part: number; err: unknown }): LogRecord => ({
    id: 'stow.ingest.error',
    msg: `the edge threw while storing STOW-RS part ${f.part}`,
    ...f,
  }),
} as const;
