/** Types of `fetch-ohif.mjs` (plain JavaScript so it runs as a postinstall script). */

export interface ViewerPin {
  package: string;
  version: string;
  /** SRI string of the tarball, `sha512-<base64>`. */
  integrity: string;
}

export type ViewerFetchErrorCode = 'registry-unreachable' | 'pack-failed' | 'integrity-mismatch' | 'extract-failed' | 'bad-package';

export const PROJECT_ROOT: string;
export const PIN: ViewerPin;
export const MARKER_FILE: string;
export const DEFAULT_CACHE_DIR: string;
export const DEFAULT_OUT_DIR: string;

export class ViewerFetchError extends Error {
  readonly code: ViewerFetchErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ViewerFetchErrorCode, message: string, details?: Record<string, unknown>);
}

export function fileIntegrity(file: string): Promise<string>;
export function npmPack(spec: string, destDir: string, npmArgs?: string[]): Promise<string>;
export function extractDist(tarball: string, outDir: string, marker: Record<string, string>): Promise<void>;
export function readMarker(outDir: string): { package?: string; version?: string; integrity?: string } | null;

export interface ObtainViewerOptions {
  pin?: ViewerPin;
  cacheDir?: string;
  outDir?: string;
  pack?: (spec: string, destDir: string) => Promise<string>;
  log?: (line: string) => void;
}

export interface ObtainViewerResult {
  status: 'present' | 'installed';
  version: string;
  dir: string;
  /** Whether the tarball was fetched (false when the verified cache served). */
  fetched: boolean;
}

export function obtainViewer(options?: ObtainViewerOptions): Promise<ObtainViewerResult>;
