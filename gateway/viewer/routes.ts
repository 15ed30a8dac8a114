/**
 * `/viewer`: the prebuilt OHIF viewer, its generated configuration, and the Limen extension
 * module, all from the gateway's own origin. Every response is cross-origin isolated (COOP and
 * COEP, which the viewer needs for SharedArrayBuffer), carries CORP, a Content-Security-Policy
 * (csp.ts: the app page runs the viewer's own scripts and its inline scripts named by hash, and
 * talks to its own origin only), and may be framed by its own origin only. Files whose name
 * holds a content hash are cached for a year; the rest revalidate with an ETag.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { getCookie } from 'hono/cookie';
import type { AppEnv, RouteDoc } from '../http/index.js';
import type { Logger } from '../log/index.js';
import { renderAppConfig } from './app-config.js';
import { inlineScriptHashes, viewerContentSecurityPolicy } from './csp.js';
import { ViewerLog } from './messages.js';
import { viewerMissingPage, safeNext, signInPage } from './pages.js';
import { assertBasePath, rebaserFor } from './rebase.js';
import { SESSION_COOKIE } from './session.js';
import type { SessionStore } from './session-store.js';
import { fileIn, IMMUTABLE, isAppRoute, isHashedAsset, mediaType, REVALIDATE, safeRelativePath } from './static-files.js';

/** Where, under the viewer's path, the extension module is served. */
export const EXTENSION_PATH = '/limen/limen-extension.js';
/** The sign-in page, under the viewer's path. */
export const SIGN_IN_PATH = '/sign-in';

export interface ViewerRoutesOptions {
  /** The extracted prebuilt viewer (`viewer-dist/`). It may be missing: `/viewer` then answers 503. */
  viewerDir: string;
  /** The built extension module (one ES module). Missing: the viewer runs without the Limen panels. */
  extensionBundle: string;
  /** Where the routes are mounted; `/viewer` by default. */
  basePath?: string;
  /** Same-origin DICOMweb root; `/dicomweb` by default. */
  dicomwebRoot?: string;
  /** Same-origin REST API root; `/api/v1` by default. */
  apiRoot?: string;
  /**
   * When given, opening the viewer needs a live session: without one the app page redirects to
   * the sign-in page. (Static assets stay public: they hold no data.)
   */
  sessions?: SessionStore;
  logger?: Logger;
}

/**
 * The isolation headers every viewer response carries. No page of another origin may frame the
 * viewer (another site of the hospital's domain included, which SameSite cookies do not tell
 * apart): framed, a reviewer could be led to click Approve. The Content-Security-Policy here is
 * the viewer's (csp.ts) without inline scripts, for its files (it matters for the scripts that
 * workers start from); the app page and the sign-in page state their own, which name their
 * inline scripts by hash.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'content-security-policy': viewerContentSecurityPolicy(),
  'x-frame-options': 'SAMEORIGIN',
};

export const viewerRouteDocs = (basePath = '/viewer'): readonly RouteDoc[] => [
  {
    method: 'GET',
    path: basePath,
    summary:
      "The viewer app page (the study list); the same as `/viewer/`. Its Content-Security-Policy lets it run the viewer's own scripts and its inline ones (by hash) " +
      'and talk to its own origin only; every viewer response is cross-origin isolated and may be framed by its own origin only.',
    responses: { 200: 'HTML', 302: 'to the sign-in page (no session)', 503: 'viewer not installed' },
  },
  {
    method: 'GET',
    path: `${basePath}/*`,
    summary:
      'The OHIF viewer: its files (hashed names cached for a year, others revalidated), and index.html for app routes. ' +
      'Asks for a session first when sessions are on. 503 when the viewer is not installed.',
    responses: { 200: 'a file or the app page', 302: 'to the sign-in page (no session)', 304: 'not modified', 404: 'no such file', 503: 'viewer not installed' },
  },
  {
    method: 'GET',
    path: `${basePath}/app-config.js`,
    summary: "The viewer's generated configuration: Limen's same-origin DICOMweb data source and the Limen extension.",
    responses: { 200: 'JavaScript' },
  },
  {
    method: 'GET',
    path: `${basePath}${EXTENSION_PATH}`,
    summary: 'The Limen OHIF extension (one ES module).',
    responses: { 200: 'JavaScript', 503: 'not built' },
  },
  {
    method: 'GET',
    path: `${basePath}${SIGN_IN_PATH}`,
    summary: 'Sign-in page: exchanges an API token for a session cookie, then returns to `next`.',
    responses: { 200: 'HTML' },
  },
];

/**
 * A file made ready to serve: read and rewritten once (`body`), or streamed from disk. The app
 * page also gets its policy, with the hashes of the inline scripts of the bytes served.
 */
type Prepared = { mtimeMs: number; size: number; body: Buffer | null; etag: string; contentSecurityPolicy?: string };

export function viewerRoutes(options: ViewerRoutesOptions): Hono<AppEnv> {
  const basePath = options.basePath ?? '/viewer';
  assertBasePath(basePath);
  const apiRoot = options.apiRoot ?? '/api/v1';
  const dicomwebRoot = options.dicomwebRoot ?? '/dicomweb';
  const viewerDir = options.viewerDir;
  const logger = options.logger;

  let installed = existsSync(join(viewerDir, 'index.html'));
  const viewerInstalled = (): boolean => (installed ||= existsSync(join(viewerDir, 'index.html')));
  const extensionBuilt = existsSync(options.extensionBundle);
  if (!installed) logger?.warn(ViewerLog.missing(viewerDir));
  if (!extensionBuilt) logger?.warn(ViewerLog.extensionMissing(options.extensionBundle));
  if (installed) logger?.info(ViewerLog.ready(viewerDir, viewerVersion(viewerDir), extensionBuilt));

  const appConfig = renderAppConfig({
    basePath,
    dicomwebRoot,
    apiRoot,
    extensionUrl: extensionBuilt ? basePath + EXTENSION_PATH : null,
    signInUrl: options.sessions ? basePath + SIGN_IN_PATH : undefined,
  });
  const appConfigEtag = strongEtag(Buffer.from(appConfig));

  // Rewritten files by relative path; a re-extracted viewer (new mtime) is prepared again.
  const prepared = new Map<string, Promise<Prepared>>();
  const prepare = async (relPath: string, file: string): Promise<Prepared> => {
    const st = await stat(file);
    const known = prepared.get(relPath);
    if (known) {
      const p = await known;
      if (p.mtimeMs === st.mtimeMs && p.size === st.size) return p;
    }
    const next = (async (): Promise<Prepared> => {
      const rebase = rebaserFor(relPath);
      if (rebase) {
        const rewritten = rebase(await readFile(file, 'utf8'), basePath);
        if (rewritten !== null) {
          const body = Buffer.from(rewritten);
          const page = relPath === 'index.html' ? { contentSecurityPolicy: viewerContentSecurityPolicy(inlineScriptHashes(rewritten)) } : {};
          return { mtimeMs: st.mtimeMs, size: st.size, body, etag: strongEtag(body), ...page };
        }
      }
      return { mtimeMs: st.mtimeMs, size: st.size, body: null, etag: `W/"${st.size.toString(16)}-${Math.trunc(st.mtimeMs).toString(16)}"` };
    })();
    prepared.set(relPath, next);
    next.catch(() => prepared.delete(relPath));
    return next;
  };

  const serveFile = async (c: Context<AppEnv>, relPath: string, file: string): Promise<Response> => {
    const p = await prepare(relPath, file);
    const immutable = isHashedAsset(relPath);
    const headers: Record<string, string> = {
      'content-type': mediaType(relPath),
      'cache-control': immutable ? IMMUTABLE : REVALIDATE,
      etag: p.etag,
      ...(p.contentSecurityPolicy ? { 'content-security-policy': p.contentSecurityPolicy } : {}),
    };
    if (!immutable && matchesEtag(c.req.header('if-none-match'), p.etag)) return c.body(null, 304, headers);
    if (p.body) return c.body(new Uint8Array(p.body), 200, { ...headers, 'content-length': String(p.body.length) });
    const stream = Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>;
    return c.body(stream, 200, { ...headers, 'content-length': String(p.size) });
  };

  const hasSession = async (c: Context<AppEnv>): Promise<boolean> => {
    if (!options.sessions) return true;
    const token = getCookie(c, SESSION_COOKIE);
    return token !== undefined && (await options.sessions.resolve(token)) !== null;
  };

  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) {
      // A page of the gateway's own states a whole policy (which includes frame-ancestors).
      if (k === 'content-security-policy' && c.res.headers.has(k)) continue;
      c.res.headers.set(k, v);
    }
  });
  app.use(compress());

  app.get('/app-config.js', (c) => {
    const headers = { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': REVALIDATE, etag: appConfigEtag };
    if (matchesEtag(c.req.header('if-none-match'), appConfigEtag)) return c.body(null, 304, headers);
    return c.body(appConfig, 200, headers);
  });

  app.get(EXTENSION_PATH, async (c) => {
    if (!existsSync(options.extensionBundle)) {
      return c.body('// the Limen viewer extension is not built (npm run build)\n', 503, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
    }
    const body = readFileSync(options.extensionBundle);
    const etag = strongEtag(body);
    const headers = { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': REVALIDATE, etag };
    if (matchesEtag(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    return c.body(new Uint8Array(body), 200, headers);
  });

  app.get(SIGN_IN_PATH, (c) => {
    const page = signInPage({ apiRoot, next: safeNext(c.req.query('next'), basePath) });
    return c.html(page.html, 200, { 'cache-control': 'no-store', 'content-security-policy': page.contentSecurityPolicy });
  });

  const serve = async (c: Context<AppEnv>): Promise<Response> => {
    if (!viewerInstalled()) return c.html(viewerMissingPage(viewerDir), 503, { 'cache-control': 'no-store', 'retry-after': '3600' });
    const urlPath = new URL(c.req.url).pathname;
    const rel = safeRelativePath(urlPath.startsWith(basePath) ? urlPath.slice(basePath.length) : urlPath);
    if (rel === null) return c.json({ error: { code: 'not-found', message: 'no such viewer file' } }, 404);
    if (rel !== '' && rel !== 'index.html') {
      const file = fileIn(viewerDir, rel);
      const st = await stat(file).catch(() => null);
      if (st?.isFile()) return serveFile(c, rel, file);
      if (!isAppRoute(rel)) return c.json({ error: { code: 'not-found', message: 'no such viewer file' } }, 404);
    }
    // The app page, for `/viewer/` and every client-side route (`/viewer/viewer?StudyInstanceUIDs=…`).
    if (!(await hasSession(c))) {
      const url = new URL(c.req.url);
      return c.redirect(`${basePath}${SIGN_IN_PATH}?next=${encodeURIComponent(url.pathname + url.search)}`, 302);
    }
    const res = await serveFile(c, 'index.html', fileIn(viewerDir, 'index.html'));
    res.headers.set('cache-control', 'no-store');
    return res;
  };
  app.get('/', serve);
  app.get('/*', serve);
  return app;
}

/** The installed viewer's version from its marker, or `null`. */
export function viewerVersion(viewerDir: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(viewerDir, '.limen-viewer.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

const strongEtag = (body: Uint8Array): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v.replace(/^W\//, '') === bare;
  });
}
