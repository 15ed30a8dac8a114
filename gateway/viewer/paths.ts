/**
 * Where the viewer and the extension module are found in an installed Limen: both relative to
 * the project root (the folder with Limen's package.json), whether Limen runs from its sources
 * or from `dist/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ViewerPaths {
  /** `viewer-dist/`: the prebuilt OHIF viewer, extracted by `npm run fetch-viewer`. */
  viewerDir: string;
  /** `dist/ohif-extension/limen-extension.js`: the extension module, built by `npm run build`. */
  extensionBundle: string;
}

export function viewerPaths(projectRoot: string): ViewerPaths {
  return {
    viewerDir: join(projectRoot, 'viewer-dist'),
    extensionBundle: join(projectRoot, 'dist', 'ohif-extension', 'limen-extension.js'),
  };
}

/** The nearest folder at or above `from` whose package.json is Limen's; `null` if none. */
export function findProjectRoot(from: string | URL = import.meta.url): string | null {
  let dir = dirname(typeof from === 'string' && !from.startsWith('file:') ? join(from, 'x') : fileURLToPath(from));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'limen') return dir;
      } catch {
        // An unreadable package.json is not Limen's; keep looking upwards.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
