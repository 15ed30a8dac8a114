/**
 * The Content-Security-Policy of the viewer. Reviewers read de-identified studies and approve
 * results in it with a session cookie: a script that got into the page could read the API and
 * send what it read elsewhere. So the page runs the viewer's own files and the two small inline
 * scripts of OHIF's index.html (named by their hashes, computed from the bytes served), sends
 * requests to its own origin only, and may be framed by its own origin only.
 *
 * Each source beyond `'self'` is there because OHIF 3.13.2 with the Limen extension was seen to
 * need it in Chromium, the policy enforced (test/ohif/viewer-browser.test.ts and
 * test/e2e/viewer-review.test.ts fail on any violation):
 *
 * - `script-src 'unsafe-eval'`: in the page, @cornerstonejs/adapters reads a SEG with `ndarray`,
 *   which compiles its array views with `new Function` (chunk 9383): without it the SEG is never
 *   overlaid. In the decoder worker, the image codecs (CharLS, OpenJPEG, OpenJPH, libjpeg-turbo)
 *   are Emscripten modules whose embind glue builds its wrappers with `new Function` when the
 *   module starts: without it JPEG-LS and JPEG 2000 images do not decode. It does not let a
 *   script in: that takes a source `script-src` names.
 * - `script-src 'wasm-unsafe-eval'`: the codecs, polySeg and the extension's meshopt decoder (the
 *   GLB meshes are meshopt-compressed) compile WebAssembly at run time. `'unsafe-eval'` allows
 *   that as well; this one is stated so that WebAssembly keeps working should `'unsafe-eval'` go.
 * - `style-src 'unsafe-inline'`: OHIF's toasts (sonner) and React components put `<style>`
 *   elements into the page at run time. Styles cannot run script.
 * - `img-src data:`: images inlined as `data:` URLs in OHIF's markup and stylesheets.
 *
 * Not needed, so not there: `blob:` images or workers (every worker the viewer starts comes
 * from one of its files), `data:` fonts, any other origin.
 *
 * A dedicated worker takes the policy of its script's response (CSP 3, Chromium), so every
 * response of the viewer carries the policy, without hashes, which no worker needs.
 */
import { createHash } from 'node:crypto';

/**
 * The viewer's policy; `inlineScriptHashes` (`'sha256-…'`, from {@link inlineScriptHashes}) for
 * the app page, none for every other response.
 */
export function viewerContentSecurityPolicy(inlineScriptHashes: readonly string[] = []): string {
  return [
    "default-src 'self'",
    ["script-src 'self'", ...inlineScriptHashes, "'unsafe-eval'", "'wasm-unsafe-eval'"].join(' '),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/**
 * The `'sha256-…'` sources of the classic and module inline scripts of an HTML page, as a
 * browser hashes them: the text between the tags (line breaks normalised as the HTML parser
 * does). Scripts with `src`, and data blocks (`type="application/json"` and other non-script
 * types), are left out. In the order they appear, without repeats.
 */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const m of html.replace(/\r\n?/g, '\n').matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    const [, attrs, text] = m;
    if (/\ssrc\s*=/i.test(` ${attrs}`)) continue;
    const type = /\stype\s*=\s*(["']?)([^"'\s>]*)\1/i.exec(` ${attrs}`)?.[2].toLowerCase();
    if (type !== undefined && type !== '' && type !== 'module' && !/^(text|application)\/(x-)?(java|ecma)script$/.test(type)) continue;
    const hash = `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
    if (!hashes.includes(hash)) hashes.push(hash);
  }
  return hashes;
}
