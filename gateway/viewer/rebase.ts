/**
 * The prebuilt OHIF viewer is built for the site root: its index.html, stylesheet, manifest and
 * webpack runtimes name assets with absolute `/` paths. Limen serves it under a sub-path
 * (`/viewer`), so those few references are rewritten at serve time. Pure text functions: each
 * returns the rewritten text, or `null` when the input holds nothing to rewrite.
 */

/** `/viewer` style: leading slash, no trailing slash, no `..`, only URL-safe path characters. */
const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

/** Throws unless `base` is a sub-path such as `/viewer` (the root needs no rebasing). */
export function assertBasePath(base: string): void {
  if (!BASE_PATH.test(base) || base.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error(`viewer base path "${base}" must look like "/viewer": a leading slash, no trailing slash, no dot segments`);
  }
}

/**
 * The webpack (rspack) runtime's public path, from which every lazily loaded chunk, worker and
 * asset URL is built. The prebuilt viewer sets it to the literal `/`.
 */
const PUBLIC_PATH = /(__webpack_require__\.p\s*=\s*)(["'])\/\2/g;

/** The one dynamic import of a root-relative module the app bundle makes (the microscopy viewer). */
const ROOT_IMPORT = /(browserImportFunction\(\s*)(["'])\/(?!\/)/g;

/** index.html: `window.PUBLIC_URL`, and every root-relative `href` / `src`. */
export function rebaseIndexHtml(html: string, base: string): string {
  assertBasePath(base);
  return html
    .replace(/(window\.PUBLIC_URL\s*=\s*)(["'])\/\2/g, `$1$2${base}/$2`)
    .replace(/(\s(?:href|src)=)(["']?)\/(?!\/)/g, `$1$2${base}/`);
}

/** A script: the webpack runtime's public path and root-relative dynamic imports; `null` if none. */
export function rebaseScript(js: string, base: string): string | null {
  assertBasePath(base);
  if (!js.includes('__webpack_require__.p') && !js.includes('browserImportFunction')) return null;
  PUBLIC_PATH.lastIndex = 0;
  ROOT_IMPORT.lastIndex = 0;
  if (!PUBLIC_PATH.test(js) && !ROOT_IMPORT.test(js)) return null;
  return js.replace(PUBLIC_PATH, `$1$2${base}/$2`).replace(ROOT_IMPORT, `$1$2${base}/`);
}

/** A stylesheet: root-relative `url(...)` references (the icon font); `null` if none. */
export function rebaseStylesheet(css: string, base: string): string | null {
  assertBasePath(base);
  const pattern = /url\(\s*(["']?)\/(?!\/)/g;
  if (!pattern.test(css)) return null;
  return css.replace(/url\(\s*(["']?)\/(?!\/)/g, `url($1${base}/`);
}

/** The web app manifest: root-relative icon `src` and `start_url`; `null` if none. */
export function rebaseManifest(json: string, base: string): string | null {
  assertBasePath(base);
  const pattern = /("(?:src|start_url|scope)"\s*:\s*")\/(?!\/)/g;
  if (!pattern.test(json)) return null;
  return json.replace(/("(?:src|start_url|scope)"\s*:\s*")\/(?!\/)/g, `$1${base}/`);
}

/** Which rewrite applies to a file, by its name; `undefined` for files served as they are. */
export function rebaserFor(relPath: string): ((text: string, base: string) => string | null) | undefined {
  if (relPath === 'index.html') return rebaseIndexHtml;
  if (relPath === 'manifest.json') return rebaseManifest;
  // Only the viewer's own top-level bundles carry a webpack runtime; vendored subfolders
  // (onnxruntime, the microscopy viewer) resolve their files relative to themselves.
  if (!relPath.includes('/') && relPath.endsWith('.js')) return rebaseScript;
  if (!relPath.includes('/') && relPath.endsWith('.css')) return rebaseStylesheet;
  return undefined;
}
