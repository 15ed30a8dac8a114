/**
 * Viewer hosting in process (`app.request`): a small viewer directory shaped like the prebuilt
 * one (absolute `/` paths, a webpack runtime, a hashed chunk, wasm, a font), served under
 * `/viewer` with its paths rebased, isolation headers, Content-Security-Policy (the app page's
 * naming its inline scripts by hash), media types and cache policy; the generated config and
 * the extension module; the sign-in redirect; and the 503 when the viewer is missing. One case
 * runs on the real prebuilt viewer when it is installed.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { AppEnv } from '../../../gateway/http/index.js';
import { createLogger } from '../../../gateway/log/index.js';
import { inlineScriptHashes } from '../../../gateway/viewer/csp.js';
import { EXTENSION_PATH, ISOLATION_HEADERS, MemorySessionStore, sessionRouteDocs, sessionRoutes, viewerRouteDocs, viewerRoutes, type ViewerRoutesOptions } from '../../../gateway/viewer/index.js';
import { PROJECT_ROOT } from '../../../scripts/fetch-ohif.mjs';
import { directives, inlineScriptHashesOf } from '../../support/csp.js';

const INDEX =
  '<!doctype html><html><head><script>window.PUBLIC_URL="/"</script><link rel="manifest" href="/manifest.json">' +
  '<link rel="icon" href="/assets/favicon.ico"><script rel="preload" as="script" src="/app-config.js"></script>' +
  '<script defer src="/app.bundle.0f6159c501addfe9.js"></script><link href="/app.bundle.css" rel="stylesheet">' +
  '<a href="//cdn.example/x">x</a></head><body><div id="root"></div></body></html>';
const APP_BUNDLE = 'var x=1;\n__webpack_require__.p = "/";\nasync function f(){ return window.browserImportFunction(\'/dicom-microscopy-viewer/dmv.js\') }\n' + '// padding above the compression threshold\n'.repeat(40);
const CHUNK = '(globalThis["rspackChunk"] = globalThis["rspackChunk"] || []).push([[12], {}]);\n';
const CSS = '@font-face{src:url(/a34f9d1faa5f3315.woff2) format("woff2")}body{background:url(//cdn.example/bg.png)}';
const MANIFEST = '{"icons":[{"src":"/assets/android-chrome-36x36.png","sizes":"36x36"}],"start_url":"/"}';
const WASM = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

describe('gateway/viewer: serving the viewer under /viewer', () => {
  let dir: string;
  let viewerDir: string;
  let extensionBundle: string;
  const logLines: string[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'limen-viewer-routes-'));
    viewerDir = join(dir, 'viewer-dist');
    mkdirSync(join(viewerDir, 'assets'), { recursive: true });
    writeFileSync(join(viewerDir, 'index.html'), INDEX);
    writeFileSync(join(viewerDir, 'app-config.js'), 'window.config = { shipped: true };');
    writeFileSync(join(viewerDir, 'app.bundle.0f6159c501addfe9.js'), APP_BUNDLE);
    writeFileSync(join(viewerDir, '12.bundle.b4688cdbdd856b75.js'), CHUNK);
    writeFileSync(join(viewerDir, 'app.bundle.css'), CSS);
    writeFileSync(join(viewerDir, 'manifest.json'), MANIFEST);
    writeFileSync(join(viewerDir, '0ddf166f7a343eda.wasm'), WASM);
    writeFileSync(join(viewerDir, 'assets', 'favicon.ico'), 'ico');
    writeFileSync(join(viewerDir, '.limen-viewer.json'), JSON.stringify({ version: '3.13.2' }));
    writeFileSync(join(dir, 'secret.txt'), 'outside the viewer');
    extensionBundle = join(dir, 'limen-extension.js');
    writeFileSync(extensionBundle, 'export default { id: "limen" };\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const appWith = (options: Partial<ViewerRoutesOptions> = {}) => {
    const app = new Hono<AppEnv>();
    const logger = createLogger({ level: 'debug', write: (l) => logLines.push(l) });
    app.route('/viewer', viewerRoutes({ viewerDir, extensionBundle, logger, ...options }));
    return app;
  };

  const isolated = (res: Response) => {
    expect(res.headers.get('cross-origin-opener-policy')).to.equal('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).to.equal('require-corp');
    expect(res.headers.get('cross-origin-resource-policy')).to.equal('same-origin');
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    // Framed by its own origin only (clickjacking): the standard header and the older one.
    const csp = directives(res.headers.get('content-security-policy') ?? '');
    expect(csp.get('frame-ancestors')).to.deep.equal(["'self'"]);
    expect(res.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
    // The viewer's policy (csp.ts): its own origin only, no inline script but by hash.
    expect(csp.get('default-src')).to.deep.equal(["'self'"]);
    expect(csp.get('connect-src')).to.deep.equal(["'self'"]);
    expect(csp.get('object-src')).to.deep.equal(["'none'"]);
    expect(csp.get('script-src')).to.include("'self'").and.not.include("'unsafe-inline'");
  };

  /** The app page's policy: the viewer's, with the hashes of the inline scripts of the HTML served. */
  const pagePolicy = (res: Response, html: string) => {
    const csp = directives(res.headers.get('content-security-policy') ?? '');
    expect(csp.get('script-src')).to.deep.equal(["'self'", ...inlineScriptHashesOf(html), "'unsafe-eval'", "'wasm-unsafe-eval'"]);
    expect(res.headers.get('content-security-policy')!.replace(/ 'sha256-[^']+'/g, ''), 'the same policy as the files, with the hashes').to.equal(ISOLATION_HEADERS['content-security-policy']);
  };

  it('serves index.html for /viewer, /viewer/ and app routes, with every root path under /viewer', async () => {
    const app = appWith();
    for (const path of ['/viewer', '/viewer/', '/viewer/viewer?StudyInstanceUIDs=1.2.3', '/viewer/segmentation/x']) {
      const res = await app.request(path);
      expect(res.status, path).to.equal(200);
      isolated(res);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const html = await res.text();
      pagePolicy(res, html);
      expect(html).to.include('window.PUBLIC_URL="/viewer/"');
      expect(html).to.include('src="/viewer/app-config.js"').and.include('src="/viewer/app.bundle.0f6159c501addfe9.js"');
      expect(html).to.include('href="/viewer/app.bundle.css"').and.include('href="/viewer/manifest.json"').and.include('href="/viewer/assets/favicon.ico"');
      expect(html, 'protocol-relative URLs untouched').to.include('href="//cdn.example/x"');
      expect(html.match(/(?:src|href)="\/(?!viewer\/|\/)/g), 'no root path left').to.equal(null);
    }
  });

  it("names in the app page's policy the inline scripts it serves, as rebased; other files get the policy without hashes", async () => {
    const app = appWith();
    const res = await app.request('/viewer/');
    const policy = res.headers.get('content-security-policy') ?? '';
    const served = `'sha256-${createHash('sha256').update('window.PUBLIC_URL="/viewer/"').digest('base64')}'`;
    const shipped = `'sha256-${createHash('sha256').update('window.PUBLIC_URL="/"').digest('base64')}'`;
    expect(directives(policy).get('script-src')).to.include(served).and.not.include(shipped).and.not.include("'unsafe-inline'");
    for (const path of ['/viewer/app.bundle.0f6159c501addfe9.js', '/viewer/app-config.js', `/viewer${EXTENSION_PATH}`, '/viewer/app.bundle.css', '/viewer/nope.js']) {
      const file = await app.request(path);
      expect(file.headers.get('content-security-policy'), path).to.equal(ISOLATION_HEADERS['content-security-policy']);
      expect(file.headers.get('content-security-policy'), path).to.not.include("'sha256-");
    }
    // Every app route gets the same page and policy.
    expect((await app.request('/viewer/viewer?StudyInstanceUIDs=1.2.3')).headers.get('content-security-policy')).to.equal(policy);
  });

  it('hashes inline scripts as a browser does: classic and module ones, not those with src nor data blocks', () => {
    const h = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const html =
      '<script>a()</script><script src="/x.js"></script><script type="module">b()</script>' +
      '<script type="application/json">{"c":1}</script><SCRIPT type="text/javascript">d()\r\ne()</SCRIPT><script>a()</script>' +
      '<script defer\nsrc="/y.js">ignored()</script><script type="importmap">{}</script>';
    expect(inlineScriptHashes(html)).to.deep.equal([h('a()'), h('b()'), h('d()\ne()')]);
    expect(inlineScriptHashes('<p>no script</p>')).to.deep.equal([]);
  });

  it('rebases the webpack public path and root imports of scripts, and font URLs of stylesheets', async () => {
    const app = appWith();
    const js = await (await app.request('/viewer/app.bundle.0f6159c501addfe9.js')).text();
    expect(js).to.include('__webpack_require__.p = "/viewer/";').and.include("browserImportFunction('/viewer/dicom-microscopy-viewer/dmv.js')");
    expect(await (await app.request('/viewer/12.bundle.b4688cdbdd856b75.js')).text()).to.equal(CHUNK);
    const css = await (await app.request('/viewer/app.bundle.css')).text();
    expect(css).to.include('url(/viewer/a34f9d1faa5f3315.woff2)').and.include('url(//cdn.example/bg.png)');
    expect(JSON.parse(await (await app.request('/viewer/manifest.json')).text())).to.deep.equal({
      icons: [{ src: '/viewer/assets/android-chrome-36x36.png', sizes: '36x36' }],
      start_url: '/viewer/',
    });
  });

  it('gives exact media types; hashed names are immutable, other files revalidate with an ETag', async () => {
    const app = appWith();
    const wasm = await app.request('/viewer/0ddf166f7a343eda.wasm');
    expect(wasm.headers.get('content-type')).to.equal('application/wasm');
    expect(wasm.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(new Uint8Array(await wasm.arrayBuffer())).to.deep.equal(WASM);
    isolated(wasm);
    const chunk = await app.request('/viewer/12.bundle.b4688cdbdd856b75.js');
    expect(chunk.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
    expect(chunk.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    const css = await app.request('/viewer/app.bundle.css');
    expect(css.headers.get('content-type')).to.equal('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).to.equal('no-cache');
    const etag = css.headers.get('etag');
    expect(etag).to.be.a('string');
    const again = await app.request('/viewer/app.bundle.css', { headers: { 'if-none-match': etag! } });
    expect(again.status).to.equal(304);
    isolated(again);
    expect((await app.request('/viewer/assets/favicon.ico')).headers.get('content-type')).to.equal('image/x-icon');
  });

  it('compresses text for clients that accept gzip', async () => {
    const res = await appWith().request('/viewer/app.bundle.0f6159c501addfe9.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).to.equal('gzip');
    const plain = new Response(res.body!.pipeThrough(new DecompressionStream('gzip')));
    expect(await plain.text()).to.include('__webpack_require__.p = "/viewer/";');
  });

  it('refuses paths outside the viewer, dotfiles, and missing files (404), never falling back to the app page', async () => {
    const app = appWith();
    for (const path of ['/viewer/../secret.txt', '/viewer/%2e%2e/secret.txt', '/viewer/.limen-viewer.json', '/viewer/assets/..%2F..%2Fsecret.txt', '/viewer/nope.js', '/viewer/assets/missing.png']) {
      const res = await app.request(path);
      expect(res.status, path).to.equal(404);
      expect(await res.text(), path).to.not.include('outside the viewer');
    }
  });

  it("generates app-config.js (not the shipped one) naming the extension that it serves", async () => {
    const app = appWith();
    const res = await app.request('/viewer/app-config.js');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
    const js = await res.text();
    expect(js).to.not.include('shipped: true');
    expect(js).to.include(`"/viewer${EXTENSION_PATH}"`);
    const ext = await app.request(`/viewer${EXTENSION_PATH}`);
    expect(ext.status).to.equal(200);
    expect(ext.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
    expect(await ext.text()).to.equal(readFileSync(extensionBundle, 'utf8'));
    isolated(ext);
  });

  it('without a built extension: the config names none and the module answers 503', async () => {
    const app = appWith({ extensionBundle: join(dir, 'not-built.js') });
    const js = await (await app.request('/viewer/app-config.js')).text();
    expect(js).to.include('"extensions": []').and.not.include('limen.panelModule');
    expect((await app.request(`/viewer${EXTENSION_PATH}`)).status).to.equal(503);
    expect(logLines.some((l) => l.includes('"viewer.extension.missing"'))).to.equal(true);
  });

  it('with sessions on, the app page needs a live session; assets and the sign-in page do not', async () => {
    const sessions = new MemorySessionStore();
    const app = appWith({ sessions });
    const res = await app.request('/viewer/viewer?StudyInstanceUIDs=1.2.3');
    expect(res.status).to.equal(302);
    expect(res.headers.get('location')).to.equal('/viewer/sign-in?next=%2Fviewer%2Fviewer%3FStudyInstanceUIDs%3D1.2.3');
    isolated(res);
    expect((await app.request('/viewer/app.bundle.css')).status).to.equal(200);
    const signIn = await app.request('/viewer/sign-in?next=%2Fviewer%2Fviewer%3FStudyInstanceUIDs%3D1.2.3');
    expect(signIn.status).to.equal(200);
    const page = await signIn.text();
    expect(page).to.include('"sessionUrl":"/api/v1/session"').and.include('"next":"/viewer/viewer?StudyInstanceUIDs=1.2.3"');
    // The page that handles a token runs its own script and style only, named by their hashes.
    const csp = signIn.headers.get('content-security-policy') ?? '';
    const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const inline = (tag: string) => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(page)?.[1] ?? '';
    expect(csp.split('; ')).to.include.members(["default-src 'none'", `script-src ${hashOf(inline('script'))}`, `style-src ${hashOf(inline('style'))}`, "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'self'"]);
    expect(csp).to.not.include('unsafe-inline');
    expect(await (await app.request('/viewer/sign-in?next=https%3A%2F%2Fevil.example%2F')).text(), 'no open redirect').to.include('"next":"/viewer/"');
    const { token } = await sessions.open({ role: 'reviewer', user: 'dr-x', id: 't1' }, { method: 'api-token' });
    const inside = await app.request('/viewer/viewer?StudyInstanceUIDs=1.2.3', { headers: { cookie: `limen_session=${token}` } });
    expect(inside.status).to.equal(200);
    expect(await inside.text()).to.include('window.PUBLIC_URL="/viewer/"');
    expect((await app.request('/viewer/', { headers: { cookie: 'limen_session=forged-token-forged-token-forged-token-abcd' } })).status).to.equal(302);
  });

  it('answers 503 with the command to run when the viewer is not installed, and serves it once it is', async () => {
    const later = join(dir, 'later-dist');
    const app = appWith({ viewerDir: later });
    const res = await app.request('/viewer/');
    expect(res.status).to.equal(503);
    isolated(res);
    expect(await res.text()).to.include('npm run fetch-viewer');
    expect(logLines.some((l) => l.includes('"viewer.missing"'))).to.equal(true);
    mkdirSync(later);
    writeFileSync(join(later, 'index.html'), INDEX);
    expect((await app.request('/viewer/')).status).to.equal(200);
  });

  it('documents every route it serves (viewer and session)', () => {
    const app = appWith();
    app.route('/api/v1', sessionRoutes({ tokens: { verifyToken: async () => null }, sessions: new MemorySessionStore() }));
    const served = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`);
    const documented = [...viewerRouteDocs('/viewer'), ...sessionRouteDocs].map((d) => `${d.method} ${d.path}`);
    expect([...new Set(served)].sort()).to.deep.equal([...documented].sort());
  });

  it('the real prebuilt viewer: every script with a webpack runtime gets the /viewer public path', async function () {
    const real = join(PROJECT_ROOT, 'viewer-dist');
    const { existsSync, readdirSync } = await import('node:fs');
    if (!existsSync(join(real, 'index.html'))) {
      if (process.env.CI === 'true') throw new Error('viewer-dist is missing (npm run fetch-viewer)');
      this.skip();
    }
    const app = appWith({ viewerDir: real });
    const scripts = readdirSync(real).filter((f) => f.endsWith('.js') && readFileSync(join(real, f), 'utf8').includes('__webpack_require__.p = "/"'));
    expect(scripts.length, 'scripts with a runtime').to.be.greaterThan(1);
    for (const f of scripts) {
      const served = await (await app.request(`/viewer/${f}`)).text();
      expect(served, f).to.include('__webpack_require__.p = "/viewer/"').and.not.include('__webpack_require__.p = "/"');
    }
    const page = await app.request('/viewer/');
    const html = await page.text();
    expect(html.match(/(?:src|href)="\/(?!viewer\/|\/)/g), 'no root path left in index.html').to.equal(null);
    // Its two inline scripts (console.time / PUBLIC_URL, browserImportFunction), as served, by hash.
    expect(inlineScriptHashesOf(html)).to.have.length(2);
    pagePolicy(page, html);
  });
});
