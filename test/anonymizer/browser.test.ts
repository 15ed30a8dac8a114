/**
 * The engine is isomorphic: bundled for the browser (which fails on any Node-only import), it
 * runs in headless Chromium and gives byte for byte the output Node gives for the same file, key
 * and profile, rejections included.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { deidentify, keyedIdentifiers, profileOrThrow, type ProfileSpec } from '../../anonymizer/index.js';
import { bundleForBrowser, serveStatic, type StaticSite } from '../support/bundle.js';
import { PEERS, requirePeers } from '../support/peers.js';

const ENTRY = fileURLToPath(new URL('../../anonymizer/index.ts', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const CORPUS = join(FIXTURES, 'pydicom-corpus/test_files');
const KEY = new Uint8Array(32).map((_, i) => (i * 29 + 11) & 0xff);

/** What both sides return, in a form that crosses the page boundary: bytes as base64. */
interface Outcome {
  ok: boolean;
  bytes?: string;
  linkage?: string;
  changes?: string;
  error?: string;
}

interface Case {
  name: string;
  file: string;
  spec: ProfileSpec;
}

const CASES: Case[] = [
  { name: 'ct-fakephi CT, Basic Profile', file: join(FIXTURES, 'ct-fakephi/dicom/CT000001.dcm'), spec: {} },
  {
    name: 'ct-fakephi CT, Modified Dates and Clean Descriptors',
    file: join(FIXTURES, 'ct-fakephi/dicom/CT000001.dcm'),
    spec: { options: ['retainLongitudinalModifiedDates', 'cleanDescriptors'] },
  },
  { name: 'implicit VR little endian MR', file: join(CORPUS, 'MR_small_implicit.dcm'), spec: {} },
  { name: 'explicit VR big endian MR', file: join(CORPUS, 'MR_small_bigendian.dcm'), spec: {} },
  { name: 'JPEG 2000 encapsulated, burned-in allowed', file: join(CORPUS, 'JPEG2000.dcm'), spec: { allowBurnedIn: true } },
  { name: 'deflated transfer syntax, burned-in allowed', file: join(CORPUS, 'image_dfl.dcm'), spec: { allowBurnedIn: true } },
  { name: 'JPEG 2000 secondary capture rejected (burned-in text)', file: join(CORPUS, 'JPEG2000.dcm'), spec: {} },
];

function inNode(bytes: Uint8Array, spec: ProfileSpec): Outcome {
  const r = deidentify({ bytes }, profileOrThrow(spec), keyedIdentifiers(KEY));
  if (!r.ok) return { ok: false, error: JSON.stringify(r.error) };
  return { ok: true, bytes: b64(r.bytes), linkage: JSON.stringify(r.linkage), changes: JSON.stringify(r.changes) };
}

/**
 * The page: it imports the bundle and exposes one function doing in the browser what inNode does.
 * It is plain page script, not a function serialized from here, so nothing of this file's
 * compilation (helpers the TypeScript loader injects) leaks into the browser.
 */
const PAGE = `<!doctype html><meta charset="utf-8"><title>limen anonymizer</title>
<script type="module">
import * as limen from '/anonymizer.js';
const decode = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
function encode(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
window.limenUid = (key, uid) => limen.keyedIdentifiers(decode(key)).uid(uid);
window.limenDeidentify = (input, key, spec) => {
  const r = limen.deidentify({ bytes: decode(input) }, limen.profileOrThrow(spec), limen.keyedIdentifiers(decode(key)));
  if (!r.ok) return { ok: false, error: JSON.stringify(r.error) };
  return { ok: true, bytes: encode(r.bytes), linkage: JSON.stringify(r.linkage), changes: JSON.stringify(r.changes) };
};
document.title = 'ready';
</script>`;

type PageWindow = {
  limenUid(key: string, uid: string): string;
  limenDeidentify(input: string, key: string, spec: ProfileSpec): Outcome;
};

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

function inBrowser(page: Page, bytes: Uint8Array, spec: ProfileSpec): Promise<Outcome> {
  return page.evaluate(([input, key, spec]) => (window as unknown as PageWindow).limenDeidentify(input, key, spec), [b64(bytes), b64(KEY), spec] as const);
}

describe('anonymizer: the same engine in the browser (bundled, headless Chromium)', function () {
  this.timeout(30_000);
  let site: StaticSite | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let profileDir: string | undefined;

  before(async function () {
    requirePeers(this, 'chromium');
    const bundle = await bundleForBrowser(ENTRY);
    site = await serveStatic({
      '/': ['text/html; charset=utf-8', PAGE],
      '/anonymizer.js': ['text/javascript; charset=utf-8', bundle],
    });
    profileDir = mkdtempSync(join(tmpdir(), 'limen-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: PEERS.chromium,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(site.url);
    await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 10_000 }).catch(() => {
      throw new Error(`the bundled anonymizer did not load in Chromium: ${pageErrors.join('; ') || 'no page error reported'}`);
    });
  });

  after(async () => {
    await context?.close();
    await site?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('runs in a real browser and computes the same keyed UIDs as Node', async () => {
    const ua = await page.evaluate(() => navigator.userAgent);
    expect(ua).to.match(/HeadlessChrome|Chrome/);
    const uid = await page.evaluate((key) => (window as unknown as PageWindow).limenUid(key, '1.2.3.4'), b64(KEY));
    expect(uid).to.equal(keyedIdentifiers(KEY).uid('1.2.3.4'));
  });

  for (const c of CASES) {
    it(`gives Node's exact output: ${c.name}`, async () => {
      const input = new Uint8Array(readFileSync(c.file));
      const node = inNode(input, c.spec);
      const browser = await inBrowser(page, input, c.spec);
      expect(browser.ok, browser.error).to.equal(node.ok);
      if (!node.ok) {
        expect(browser.error).to.equal(node.error);
        return;
      }
      // The output really is a de-identified instance, not the input passed through.
      expect(node.bytes).to.not.equal(b64(input));
      const [b, n] = [Buffer.from(browser.bytes!, 'base64'), Buffer.from(node.bytes!, 'base64')];
      expect(b.length, 'output length').to.equal(n.length);
      expect(b.equals(n), `first difference at byte ${b.findIndex((x, i) => x !== n[i])}`).to.equal(true);
      expect(browser.linkage).to.equal(node.linkage);
      expect(browser.changes).to.equal(node.changes);
    });
  }
});
