/**
 * The reviewer's way, end to end in headless Chromium against a real gateway (issue 5): DCMTK
 * sends ct-fakephi, the pipeline runs, and in OHIF's basic viewer the de-identified CT renders with
 * the SEG overlaid without a click, the review panel is open in the right-hand panel and lists the
 * study, Approve records the decision and triggers the export, and the 3D panel's tab draws the
 * study's mesh. Nothing the viewer receives carries PHI. The overlay OHIF draws is the SEG: every
 * labelmap frame it holds equals the SEG's frame as Limen's own reader decodes it (ct-fakephi's
 * 101 × 122 frames are not a whole number of bytes, which 1-bit SEG decoders get wrong).
 * All of it under the viewer's Content-Security-Policy: any violation fails the test it happens in.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { scanResidualPhi } from '../../anonymizer/index.js';
import { frameMask, readSegmentation } from '../../pipeline/seg/index.js';
import { DimseScpService } from '../../gateway/dimse/index.js';
import { silentLogger } from '../../gateway/log/index.js';
import type { IngestInstance } from '../../gateway/ingest/index.js';
import { CT_FAKEPHI_DIR, CT_FAKEPHI_VALUES } from '../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { PEERS, requirePeers } from '../support/peers.js';
import { freePort } from '../support/ports.js';
import { until } from '../support/wait.js';
import { canvasPixels, pixelsOf } from '../support/canvas-pixels.js';
import { storeDirectory } from '../support/dcmtk.js';
import { directives, watchCsp, type CspViolations } from '../support/csp.js';

const PROJECT_ROOT = new URL('../../', import.meta.url).pathname;
const SEG_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

describe('e2e: review in OHIF (headless Chromium) against a real gateway', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let recorder: DimseScpService;
  const received: IngestInstance[] = [];
  let context: BrowserContext | undefined;
  let page: Page;
  let work: string;
  let study: string;
  const served: { name: string; bytes: Uint8Array }[] = [];
  let cspViolations: CspViolations = [];

  before(async function () {
    requirePeers(this, 'chromium', 'dcmtk');
    if (!existsSync(join(PROJECT_ROOT, 'viewer-dist', 'index.html')) || !existsSync(join(PROJECT_ROOT, 'dist', 'ohif-extension', 'limen-extension.js'))) {
      const line = 'the OHIF viewer or the built extension is missing (npm install && npm run build)';
      if (process.env.CI === 'true') throw new Error(line);
      process.stdout.write(`  skipped: ${line}\n`);
      this.skip();
    }
    work = mkdtempSync(join(tmpdir(), 'limen-e2e-'));
    // The PACS that receives approved results: a recording C-STORE SCP (real-peer delivery is
    // proven with Orthanc in test/gateway/delivery).
    const pacsPort = await freePort();
    recorder = new DimseScpService(
      { host: '127.0.0.1', port: pacsPort, aeTitle: 'PACS', acceptedSopClasses: [SEG_STORAGE] },
      {
        ingest: { ingest: async (i) => (received.push(i), { ok: true, sopClassUID: SEG_STORAGE, sopInstanceUID: i.announcedSOPInstanceUID ?? '', studyInstanceUID: '', duplicate: false }) },
        associate: () => ({ accept: true, route: 'default' }),
        logger: silentLogger,
      },
    );
    await recorder.start();
    gw = await startTestGateway(`
destinations:
  pacs:
    kind: dimse
    aeTitle: PACS
    host: 127.0.0.1
    port: ${pacsPort}
routes:
  default:
    stableSeconds: 1
    destinations: [pacs]
`);
    await storeDirectory(gw.dimse.port, CT_FAKEPHI_DIR);
    study = await until(async () => (await gw.storage.reviews.list(['pending']))[0]?.studyInstanceUID, 180_000, 'the study to await review', 500);

    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: PEERS.chromium,
      headless: true,
      viewport: { width: 1600, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    cspViolations = await watchCsp(context, page);
    page.on('response', async (r) => {
      const path = new URL(r.url()).pathname;
      if ((path.startsWith('/dicomweb') || path.startsWith('/api')) && r.ok()) {
        try {
          served.push({ name: path, bytes: new Uint8Array(await r.body()) });
        } catch {
          // a streamed body the page already consumed
        }
      }
    });
    const token = (await gw.storage.createToken({ role: 'reviewer', user: 'dr-review', ttlSeconds: 3600 })).token;
    await page.goto(`${gw.base}/viewer/`);
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForURL(`${gw.base}/viewer/`);
  });

  afterEach(function () {
    const seen = cspViolations.splice(0);
    if (seen.length > 0 && this.currentTest?.state === 'failed') process.stdout.write(`  Content-Security-Policy violations:\n    ${seen.join('\n    ')}\n`);
    else expect(seen, 'Content-Security-Policy violations').to.deep.equal([]);
  });

  after(async () => {
    await context?.close();
    await gw?.dispose();
    await recorder?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('opens the de-identified study: the CT renders (non-black pixels)', async () => {
    const res = await page.goto(`${gw.base}/viewer/viewer?StudyInstanceUIDs=${study}`);
    // The gateway's app page states its policy: no inline script but its own (by hash), its own origin only.
    const policy = directives((await res!.allHeaders())['content-security-policy'] ?? '');
    expect(policy.get('script-src')).to.include("'self'").and.not.include("'unsafe-inline'");
    expect(policy.get('script-src')!.filter((s) => s.startsWith("'sha256-"))).to.have.length(2);
    expect(policy.get('connect-src')).to.deep.equal(["'self'"]);
    expect(policy.get('frame-ancestors')).to.deep.equal(["'self'"]);
    const canvas = page.locator('canvas.cornerstone-canvas').first();
    await canvas.waitFor({ timeout: 90_000 });
    const lit = await until(async () => {
      const n = await pixelsOf(page, { png: await canvas.screenshot() }, { unlike: [0, 0, 0] }, 40);
      return n > 2000 ? n : undefined;
    }, 90_000, 'CT pixels on screen', 1000);
    expect(lit).to.be.greaterThan(2000);
  });

  it('shows the SEG overlaid without anyone double-clicking it', async () => {
    // Nothing is clicked: the extension loads the reviewed SEG and adds it to the viewport showing the CT.
    const shown = await until(
      () =>
        page.evaluate(() => {
          const s = (
            window as unknown as {
              services: {
                viewportGridService: { getActiveViewportId(): string };
                segmentationService: { getSegmentationRepresentations(viewportId: string): { segmentationId: string }[] };
                displaySetService: { getDisplaySetByUID(uid: string): { Modality?: string; SOPInstanceUID?: string } | undefined };
              };
            }
          ).services;
          const viewportId = s.viewportGridService.getActiveViewportId();
          const reps = viewportId ? s.segmentationService.getSegmentationRepresentations(viewportId) : [];
          const sets = reps.map((r) => s.displaySetService.getDisplaySetByUID(r.segmentationId)).filter((d) => d?.Modality === 'SEG');
          return sets.length > 0 ? sets.map((d) => d!.SOPInstanceUID) : undefined;
        }),
      90_000,
      'the SEG in the active viewport',
      1000,
    );
    const review = await gw.storage.reviews.get(study);
    expect(shown, 'the reviewed SEG instance').to.deep.equal([review!.segSOPInstanceUID]);
    // And on screen: the CT is grey, so coloured pixels on the viewport's canvas are the labelmap.
    const coloured = await until(async () => {
      const n = await canvasPixels(page, 'canvas.cornerstone-canvas', { coloured: true });
      return n > 2000 ? n : undefined;
    }, 30_000, 'the overlay drawn on the CT', 500);
    expect(coloured).to.be.greaterThan(2000);
  });

  it("holds, in every labelmap frame OHIF decoded, exactly the SEG's frames for that image", async () => {
    const review = await gw.storage.reviews.get(study);
    const blob = await gw.storage.getInstanceBlob(review!.segSOPInstanceUID);
    const seg = readSegmentation(blob!.bytes);
    const plane = seg.rows * seg.columns;
    // Frames of 101 × 122 pixels do not start on bytes: FRACTIONAL, one byte a pixel, and QIDO says so.
    expect(seg.segmentationType).to.equal('FRACTIONAL');
    const reader = (await gw.storage.createToken({ role: 'reviewer', user: 'dr-qido', ttlSeconds: 600 })).token;
    const found = (await (await fetch(`${gw.base}/dicomweb/studies/${study}/instances?SOPInstanceUID=${review!.segSOPInstanceUID}&includefield=00280100`, { headers: { authorization: `Bearer ${reader}` } })).json()) as Array<Record<string, unknown>>;
    expect(found[0]?.['00280100']).to.deep.equal({ vr: 'US', Value: [8] });
    // What the viewer holds: each labelmap image of the SEG's segmentation, with the SOP instance of the CT image it labels.
    // As one JSON string: Playwright hands a string over at once, an array of numbers item by item (tens of seconds here).
    const json = await page.evaluate(() => {
      const w = window as unknown as {
        services: {
          viewportGridService: { getActiveViewportId(): string };
          segmentationService: {
            getSegmentationRepresentations(viewportId: string): { segmentationId: string }[];
            getSegmentation(id: string): { representationData: { Labelmap?: { imageIds?: string[] } } } | undefined;
          };
        };
        cornerstone: { cache: { getImage(id: string): { referencedImageId?: string; getPixelData(): ArrayLike<number> } | undefined } };
      };
      const s = w.services;
      const [rep] = s.segmentationService.getSegmentationRepresentations(s.viewportGridService.getActiveViewportId());
      const ids = s.segmentationService.getSegmentation(rep.segmentationId)?.representationData.Labelmap?.imageIds ?? [];
      const held = ids.map((id) => {
        const image = w.cornerstone.cache.getImage(id);
        if (!image) return null;
        const data = image.getPixelData();
        // The pixels as [index, value] pairs of the non-zero ones: a labelmap is mostly background.
        const set: number[] = [];
        for (let i = 0; i < data.length; i++) if (data[i] !== 0) set.push(i, data[i]);
        return { sop: /\/instances\/([0-9.]+)/.exec(image.referencedImageId ?? '')?.[1] ?? '', length: data.length, set };
      });
      return JSON.stringify(held);
    });
    const held = JSON.parse(json) as ({ sop: string; length: number; set: number[] } | null)[];
    expect(held.length, 'labelmap images').to.be.greaterThan(0);
    expect(held.filter((h) => h === null), 'labelmap images missing from the cache').to.deep.equal([]);
    // The SEG's frames by the image they label: segment number and mask.
    const framesOf = new Map<string, { segment: number; mask: Uint8Array; index: number }[]>();
    seg.frames.forEach((f, index) => {
      const sop = f.source?.sopInstanceUID ?? '';
      framesOf.set(sop, [...(framesOf.get(sop) ?? []), { segment: f.segmentNumber, mask: frameMask(seg, index), index }]);
    });
    const images = new Map<string, Uint8Array[]>();
    for (const h of held) {
      expect(h!.length, `labelmap of ${h!.sop}`).to.equal(plane);
      const pixels = new Uint8Array(plane);
      for (let k = 0; k < h!.set.length; k += 2) pixels[h!.set[k]] = h!.set[k + 1];
      images.set(h!.sop, [...(images.get(h!.sop) ?? []), pixels]);
    }
    const wrong: string[] = [];
    // Each SEG frame is, in one of its image's labelmaps, exactly the pixels holding its segment number.
    for (const [sop, frames] of framesOf) {
      for (const { segment, mask, index } of frames) {
        const diffs = (images.get(sop) ?? [new Uint8Array(plane)]).map((px) => px.reduce((n, v, i) => n + ((v === segment ? 1 : 0) !== mask[i] ? 1 : 0), 0));
        const best = Math.min(...diffs);
        if (best > 0) {
          const at = seg.segmentationType === 'BINARY' ? `, starts at bit ${(index * plane) % 8}` : '';
          wrong.push(`frame ${index + 1} (segment ${segment}${at}): ${best} pixels differ`);
        }
      }
    }
    // And no labelmap holds a pixel that no SEG frame sets.
    for (const [sop, labelmaps] of images) {
      const frames = framesOf.get(sop) ?? [];
      for (const px of labelmaps) {
        const extra = px.reduce((n, v, i) => n + (v !== 0 && !frames.some((f) => f.segment === v && f.mask[i] === 1) ? 1 : 0), 0);
        if (extra > 0) wrong.push(`the labelmap of ${sop}: ${extra} pixels no SEG frame sets`);
      }
    }
    expect(wrong, `a ${seg.segmentationType} SEG of ${seg.frames.length} frames of ${seg.rows} × ${seg.columns}`).to.deep.equal([]);
  });

  it('the review panel lists the study, and Approve records the decision and triggers the export', async () => {
    // The mode's right-hand panel, open on entering the study with the review tab first: nothing
    // is mounted or opened by hand.
    const panel = page.locator(`#viewerLayoutResizableRightPanel [data-limen-panel="review"] [data-limen-current="${study}"]`);
    await panel.waitFor({ timeout: 60_000 });
    expect(await page.locator('#viewerLayoutResizableRightPanel [data-limen-panel="review"] [data-limen-notice]').isVisible(), 'the AI notice in the panel').to.equal(true);
    expect(await page.locator('[data-limen-notice-overlay]').isVisible(), 'the AI notice over the images').to.equal(true);
    expect(await page.textContent('body')).to.include('requires approval by a radiologist');
    await panel.locator('button', { hasText: 'Approve' }).click();
    const review = await until(async () => {
      const r = await gw.storage.reviews.get(study);
      return r?.status === 'approved' ? r : undefined;
    }, 30_000, 'the approval');
    expect(review.decidedBy).to.equal('dr-review');
    await panel.locator('[data-limen-status="approved"]').waitFor({ timeout: 30_000 });
    await until(() => (received.length > 0 ? received.length : undefined), 60_000, 'the SEG at the PACS');
    expect(received[0].announcedSOPClassUID).to.equal(SEG_STORAGE);
  });

  it('the 3D panel, opened from its tab, draws the study mesh (non-background pixels)', async () => {
    await page.click('#viewerLayoutResizableRightPanel [data-cy="model3d-btn"]');
    const panel = page.locator('#viewerLayoutResizableRightPanel [data-limen-panel="model3d"]');
    await panel.locator('[data-limen-load="shown"]').waitFor({ timeout: 60_000 });
    const canvas = panel.locator('canvas').first();
    const drawn = await until(async () => {
      const n = await pixelsOf(page, { png: await canvas.screenshot() }, { unlike: [0x0b, 0x10, 0x30] }, 40);
      return n > 2000 ? n : undefined;
    }, 30_000, 'the mesh on the canvas', 500);
    expect(drawn).to.be.greaterThan(2000);
    if (process.env.LIMEN_SCREENSHOT_DIR) await page.screenshot({ path: join(process.env.LIMEN_SCREENSHOT_DIR, 'e2e-review.png') });
  });

  it('nothing the viewer received carries the fixture PHI (QIDO, WADO, metadata, API)', () => {
    expect(served.length).to.be.greaterThan(3);
    expect(scanResidualPhi(served, CT_FAKEPHI_VALUES)).to.deep.equal([]);
  });
});
