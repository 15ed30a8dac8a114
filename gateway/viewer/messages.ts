/** The viewer hosting's log messages, with stable IDs. No paths of requests (they may hold UIDs). */
import type { LogRecord } from '../log/index.js';

export const ViewerLog = {
  missing: (viewerDir: string): LogRecord => ({
    id: 'viewer.missing',
    msg: 'the OHIF viewer is not installed: /viewer answers 503 until `npm run fetch-viewer` has run',
    viewerDir,
  }),
  extensionMissing: (extensionBundle: string): LogRecord => ({
    id: 'viewer.extension.missing',
    msg: 'the Limen viewer extension is not built: the viewer runs without the review and 3D panels (`npm run build`)',
    extensionBundle,
  }),
  ready: (viewerDir: string, version: string | null, extension: boolean): LogRecord => ({
    id: 'viewer.ready',
    msg: 'serving the OHIF viewer',
    viewerDir,
    version,
    extension,
  }),
} as const;
