/**
 * Files of the prebuilt viewer: safe resolution of a request path inside the viewer directory,
 * media types, and which files may be cached for good (those whose name carries a content hash).
 */
import { extname, join, sep } from 'node:path';

/** Media types of everything the prebuilt viewer ships. `.wasm` must be exact for streaming compilation. */
export const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonc': 'application/json; charset=utf-8',
  '.webapp': 'application/x-web-app-manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.xml': 'application/xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.glb': 'model/gltf-binary',
};

export function mediaType(path: string): string {
  return MEDIA_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** A year, immutable: for files whose name changes when their content does. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Revalidate every time (with the ETag): index, config, and files named without a hash. */
export const REVALIDATE = 'no-cache';

/** `app.bundle.0f6159c501addfe9.js`, `0ddf166f7a343eda.wasm`: a 16-hex content hash in the name. */
const HASHED = /(^|[./])[0-9a-f]{16}\.[a-z0-9]+$/;

export function isHashedAsset(relPath: string): boolean {
  return HASHED.test(relPath.slice(relPath.lastIndexOf('/') + 1));
}

/**
 * The relative path a request path names inside the viewer, or `null` when it may not be served:
 * not decodable, with `..`, `.` or empty segments, a backslash or NUL, or a dotfile (the marker,
 * .gitignore).
 */
export function safeRelativePath(urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  const trimmed = decoded.replace(/^\/+/, '');
  if (trimmed === '') return '';
  if (/[\\\0]/.test(trimmed)) return null;
  const segments = trimmed.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return null;
  return segments.join('/');
}

/** The absolute file for a safe relative path, confined to `root`. */
export function fileIn(root: string, relPath: string): string {
  const file = join(root, relPath);
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) throw new Error(`path escapes the viewer directory: ${relPath}`);
  return file;
}

/** A route of the single-page app rather than a file: its last segment has no extension. */
export function isAppRoute(relPath: string): boolean {
  const last = relPath.slice(relPath.lastIndexOf('/') + 1);
  return !last.includes('.');
}
