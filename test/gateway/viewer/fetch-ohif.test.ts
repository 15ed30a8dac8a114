/**
 * Obtaining the viewer (scripts/fetch-ohif.mjs): integrity against the pin, extraction of
 * `package/dist` only, idempotence, and the errors offline and on a mismatch. Tarballs are built
 * here with tar, shaped like `npm pack`'s; the unreachable-registry case runs the real npm.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileIntegrity, npmPack, obtainViewer, PIN, readMarker, ViewerFetchError, type ViewerPin } from '../../../scripts/fetch-ohif.mjs';

function tarball(dir: string, name: string, files: Record<string, string>): string {
  const root = join(dir, `${name}-src`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, 'package', path, '..'), { recursive: true });
    writeFileSync(join(root, 'package', path), text);
  }
  const out = join(dir, `${name}.tgz`);
  execFileSync('tar', ['-czf', out, '-C', root, 'package']);
  return out;
}

const sri = (file: string) => `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;

const VIEWER_FILES = {
  'package.json': '{"name":"@ohif/app","version":"9.9.9"}',
  'README.md': 'not extracted',
  'dist/index.html': '<!doctype html><title>viewer</title>',
  'dist/app-config.js': 'window.config = {};',
  'dist/app.bundle.0123456789abcdef.js': '__webpack_require__.p = "/";',
  'dist/assets/logo.svg': '<svg/>',
};

describe('scripts/fetch-ohif: obtaining the prebuilt viewer', function () {
  this.timeout(60_000);
  let dir: string;
  let good: string;
  let pin: ViewerPin;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'limen-fetch-ohif-'));
    good = tarball(dir, 'good', VIEWER_FILES);
    pin = { package: '@ohif/app', version: '9.9.9', integrity: sri(good) };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** `npm pack` as seen by the script: the tarball appears in the cache directory. */
  const packing = (source: string, calls: string[]) => async (spec: string, dest: string) => {
    calls.push(spec);
    const to = join(dest, 'ohif-app-9.9.9.tgz');
    copyFileSync(source, to);
    return to;
  };

  it('pins the integrity npm reports for @ohif/app 3.13.2', () => {
    expect(PIN).to.deep.equal({
      package: '@ohif/app',
      version: '3.13.2',
      integrity: 'sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==',
    });
  });

  it('verifies the tarball, extracts package/dist only, and writes the marker', async () => {
    const calls: string[] = [];
    const outDir = join(dir, 'viewer-dist');
    const r = await obtainViewer({ pin, cacheDir: join(dir, 'cache'), outDir, pack: packing(good, calls) });
    expect(r).to.deep.equal({ status: 'installed', version: '9.9.9', dir: outDir, fetched: true });
    expect(calls).to.deep.equal(['@ohif/app@9.9.9']);
    expect(readdirSync(outDir).sort()).to.deep.equal(['.gitignore', '.limen-viewer.json', 'app-config.js', 'app.bundle.0123456789abcdef.js', 'assets', 'index.html']);
    expect(readFileSync(join(outDir, 'assets/logo.svg'), 'utf8')).to.equal('<svg/>');
    expect(readMarker(outDir)).to.include({ package: '@ohif/app', version: '9.9.9', integrity: pin.integrity });
    expect(readFileSync(join(outDir, '.gitignore'), 'utf8')).to.equal('*\n');
    expect(await fileIntegrity(good)).to.equal(pin.integrity);
  });

  it('is idempotent: a matching viewer is left alone, a verified cached tarball is not fetched again', async () => {
    const calls: string[] = [];
    const opts = { pin, cacheDir: join(dir, 'cache'), outDir: join(dir, 'viewer-dist'), pack: packing(good, calls) };
    await obtainViewer(opts);
    expect((await obtainViewer(opts)).status).to.equal('present');
    rmSync(opts.outDir, { recursive: true });
    const again = await obtainViewer(opts);
    expect(again).to.include({ status: 'installed', fetched: false });
    expect(calls).to.have.length(1);
  });

  it('refuses a tarball whose integrity differs: deleted, nothing extracted, the old viewer kept', async () => {
    const outDir = join(dir, 'viewer-dist');
    await obtainViewer({ pin, cacheDir: join(dir, 'cache'), outDir, pack: packing(good, []) });
    const tampered = tarball(dir, 'tampered', { ...VIEWER_FILES, 'dist/app-config.js': 'window.config = { evil: true };' });
    const newer: ViewerPin = { ...pin, version: '9.9.10' };
    let error: unknown;
    try {
      await obtainViewer({ pin: newer, cacheDir: join(dir, 'cache'), outDir, pack: packing(tampered, []) });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ViewerFetchError);
    expect((error as ViewerFetchError).code).to.equal('integrity-mismatch');
    expect((error as ViewerFetchError).message).to.include(pin.integrity).and.include(sri(tampered));
    expect(existsSync(join(dir, 'cache', 'ohif-app-9.9.9.tgz')), 'mismatching tarball deleted').to.equal(false);
    expect(readFileSync(join(outDir, 'app-config.js'), 'utf8')).to.equal('window.config = {};');
    expect(readMarker(outDir)?.version).to.equal('9.9.9');
  });

  it('refuses a package without a prebuilt viewer in dist/', async () => {
    const bare = tarball(dir, 'bare', { 'package.json': '{}', 'dist/readme.txt': 'no viewer' });
    const p: ViewerPin = { ...pin, integrity: sri(bare) };
    let error: unknown;
    try {
      await obtainViewer({ pin: p, cacheDir: join(dir, 'cache'), outDir: join(dir, 'viewer-dist'), pack: packing(bare, []) });
    } catch (e) {
      error = e;
    }
    expect((error as ViewerFetchError).code).to.equal('bad-package');
    expect(existsSync(join(dir, 'viewer-dist'))).to.equal(false);
  });

  it('says the registry is unreachable when npm cannot connect (real npm, closed port, empty cache)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    let error: unknown;
    try {
      await npmPack('@ohif/app@3.13.2', join(dir, 'cache'), [`--registry=http://127.0.0.1:${port}/`, `--cache=${join(dir, 'npm-cache')}`, '--fetch-retries=0', '--prefer-online']);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ViewerFetchError);
    expect((error as ViewerFetchError).code).to.equal('registry-unreachable');
    expect((error as ViewerFetchError).message).to.include('ECONNREFUSED');
  });
});
