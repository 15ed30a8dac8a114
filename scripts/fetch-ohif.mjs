#!/usr/bin/env node
/**
 * Obtains the prebuilt OHIF viewer that the gateway serves at `/viewer`: `npm pack` of the pinned
 * `@ohif/app` version into a cache, the tarball checked against the SHA-512 integrity pinned in
 * `scripts/ohif-viewer.json`, and its `package/dist/` extracted to `viewer-dist/`.
 *
 * Plain JavaScript with Node built-ins only, so it runs as an npm `postinstall` script before
 * anything is compiled and without dev dependencies. Idempotent: a `viewer-dist/` whose marker
 * names the pinned version and integrity is left alone, and a verified tarball in the cache is
 * not fetched again.
 *
 * On failure:
 * - a tarball whose integrity differs from the pin is deleted and the script exits 1 (npm install
 *   fails): a tampered or substituted viewer must never be served;
 * - an unreachable registry prints a warning and exits 0, so `npm install` still completes; the
 *   gateway then starts without the viewer and answers `/viewer` with 503 and the command to run.
 *   `--strict` (or LIMEN_VIEWER_STRICT=1) makes that a failure too.
 * LIMEN_SKIP_VIEWER=1 skips the whole step.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The project root (this file is `scripts/fetch-ohif.mjs`). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** @type {{ package: string, version: string, integrity: string }} */
export const PIN = JSON.parse(readFileSync(new URL('./ohif-viewer.json', import.meta.url), 'utf8'));

/** Where the extracted viewer carries what it was extracted from. */
export const MARKER_FILE = '.limen-viewer.json';

export const DEFAULT_CACHE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'limen-ohif');
export const DEFAULT_OUT_DIR = join(PROJECT_ROOT, 'viewer-dist');

/** Files without which the extracted directory is not a viewer. */
const REQUIRED_FILES = ['index.html', 'app-config.js'];

/** npm's (and Node's) words for "the registry cannot be reached". */
const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ECONNRESET|socket hang up|network/i;

/**
 * An error as data: `code` is one of `registry-unreachable`, `pack-failed`, `integrity-mismatch`,
 * `extract-failed`, `bad-package`.
 */
export class ViewerFetchError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {Record<string, unknown>} [details]
   */
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'ViewerFetchError';
    this.code = code;
    this.details = details;
  }
}

/**
 * The SRI string (`sha512-<base64>`) of a file, streamed.
 * @param {string} file
 * @returns {Promise<string>}
 */
export function fileIntegrity(file) {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha512');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(`sha512-${hash.digest('base64')}`));
  });
}

/**
 * Runs a command; resolves with its exit status and output, never rejects for a non-zero status.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv }} [opts]
 * @returns {Promise<{ status: number, stdout: string, stderr: string }>}
 */
function run(cmd, args, opts = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status: status ?? 1, stdout, stderr }));
  });
}

/**
 * `npm pack <spec>` into `destDir`; resolves with the tarball's path. Inside an npm lifecycle
 * script the same npm that runs the install is used (`npm_execpath`).
 * @param {string} spec e.g. `@ohif/app@3.13.2`
 * @param {string} destDir
 * @param {string[]} [npmArgs] extra arguments (registry, cache, retries...)
 * @returns {Promise<string>}
 */
export async function npmPack(spec, destDir, npmArgs = []) {
  mkdirSync(destDir, { recursive: true });
  const execPath = process.env.npm_execpath;
  const [cmd, pre] = execPath && execPath.endsWith('.js') ? [process.execPath, [execPath]] : ['npm', []];
  const args = [...pre, 'pack', spec, '--json', '--pack-destination', destDir, '--ignore-scripts', '--prefer-offline', ...npmArgs];
  const env = { ...process.env };
  // A lifecycle script's environment carries npm_config_* of the outer install (e.g. --global);
  // those must not change what `npm pack` does.
  for (const k of Object.keys(env)) if (k.startsWith('npm_config_') && k !== 'npm_config_registry' && k !== 'npm_config_cache') delete env[k];
  let result;
  try {
    result = await run(cmd, args, { cwd: destDir, env });
  } catch (err) {
    throw new ViewerFetchError('pack-failed', `could not run npm: ${/** @type {Error} */ (err).message}`);
  }
  if (result.status !== 0) {
    // With --json, npm reports the error as JSON on stdout ({ error: { code, summary } }).
    let reported = '';
    try {
      const e = JSON.parse(result.stdout).error;
      reported = [e.code, e.summary].filter(Boolean).join(': ');
    } catch {
      reported = '';
    }
    const tail = [reported, ...result.stderr.trim().split('\n').slice(-6)].filter(Boolean).join('\n');
    const code = UNREACHABLE.test(tail) ? 'registry-unreachable' : 'pack-failed';
    const what = code === 'registry-unreachable' ? 'the npm registry is unreachable' : '`npm pack` failed';
    throw new ViewerFetchError(code, `${what} while fetching ${spec}:\n${tail}`, { spec });
  }
  let filename;
  try {
    filename = JSON.parse(result.stdout)[0].filename;
  } catch {
    filename = result.stdout.trim().split('\n').pop();
  }
  if (!filename) throw new ViewerFetchError('pack-failed', `npm pack ${spec} did not name the tarball it wrote`);
  // npm ≥ 9 names scoped tarballs `scope-name-version.tgz`; older ones `@scope/name-…` is not a file name.
  return join(destDir, filename.replace(/^@/, '').replace('/', '-'));
}

/**
 * Extracts `package/dist/` of a tarball into `outDir` (replaced atomically: a half-extracted
 * viewer is never left in place).
 * @param {string} tarball
 * @param {string} outDir
 * @param {Record<string, string>} marker written as `outDir/.limen-viewer.json`
 */
export async function extractDist(tarball, outDir, marker) {
  const staging = `${outDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    // GNU tar refuses members with `..` and strips leading `/`; --no-same-owner because root
    // would otherwise keep the packer's uid.
    const r = await run('tar', ['-xzf', tarball, '-C', staging, '--no-same-owner', '--strip-components=2', 'package/dist']);
    if (r.status !== 0) throw new ViewerFetchError('extract-failed', `tar could not extract package/dist from ${tarball}: ${r.stderr.trim()}`);
    const missing = REQUIRED_FILES.filter((f) => !existsSync(join(staging, f)));
    if (missing.length) throw new ViewerFetchError('bad-package', `the tarball's package/dist has no ${missing.join(', ')}: not a prebuilt OHIF viewer`);
    writeFileSync(join(staging, MARKER_FILE), JSON.stringify({ ...marker, extractedAt: new Date().toISOString() }, null, 2) + '\n');
    // 200 MB of third-party build output: keep it out of the repository even where the root
    // .gitignore does not list it.
    writeFileSync(join(staging, '.gitignore'), '*\n');
    const old = `${outDir}.old-${process.pid}`;
    if (existsSync(outDir)) renameSync(outDir, old);
    renameSync(staging, outDir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The marker of an extracted viewer, or null when there is none (or it is unreadable).
 * @param {string} outDir
 * @returns {{ package?: string, version?: string, integrity?: string } | null}
 */
export function readMarker(outDir) {
  try {
    return JSON.parse(readFileSync(join(outDir, MARKER_FILE), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Makes `outDir` hold the pinned viewer.
 * @param {object} [options]
 * @param {{ package: string, version: string, integrity: string }} [options.pin]
 * @param {string} [options.cacheDir]
 * @param {string} [options.outDir]
 * @param {(spec: string, destDir: string) => Promise<string>} [options.pack] obtains the tarball
 *   (default: `npm pack`); resolves with its path inside `destDir`
 * @param {(line: string) => void} [options.log]
 * @returns {Promise<{ status: 'present' | 'installed', version: string, dir: string, fetched: boolean }>}
 */
export async function obtainViewer(options = {}) {
  const pin = options.pin ?? PIN;
  const cacheDir = resolve(options.cacheDir ?? DEFAULT_CACHE_DIR);
  const outDir = resolve(options.outDir ?? DEFAULT_OUT_DIR);
  const pack = options.pack ?? ((spec, dest) => npmPack(spec, dest));
  const log = options.log ?? (() => {});
  const spec = `${pin.package}@${pin.version}`;

  const marker = readMarker(outDir);
  if (marker && marker.version === pin.version && marker.integrity === pin.integrity && REQUIRED_FILES.every((f) => existsSync(join(outDir, f)))) {
    return { status: 'present', version: pin.version, dir: outDir, fetched: false };
  }

  mkdirSync(cacheDir, { recursive: true });
  const cached = join(cacheDir, `${pin.package.replace(/^@/, '').replace('/', '-')}-${pin.version}.tgz`);
  let tarball = cached;
  let fetched = false;
  if (!existsSync(cached) || (await fileIntegrity(cached)) !== pin.integrity) {
    log(`fetching ${spec} (npm pack)…`);
    tarball = await pack(spec, cacheDir);
    fetched = true;
  }
  const actual = await fileIntegrity(tarball);
  if (actual !== pin.integrity) {
    rmSync(tarball, { force: true });
    throw new ViewerFetchError(
      'integrity-mismatch',
      `${spec}: the tarball's integrity ${actual} differs from the pinned ${pin.integrity}; it was deleted and nothing was extracted`,
      { expected: pin.integrity, actual },
    );
  }
  log(`extracting ${spec} to ${outDir}…`);
  await extractDist(tarball, outDir, { package: pin.package, version: pin.version, integrity: pin.integrity });
  return { status: 'installed', version: pin.version, dir: outDir, fetched };
}

async function main(argv) {
  const strict = argv.includes('--strict') || process.env.LIMEN_VIEWER_STRICT === '1';
  const say = (line) => process.stderr.write(`limen viewer: ${line}\n`);
  if (process.env.LIMEN_SKIP_VIEWER === '1') {
    say('LIMEN_SKIP_VIEWER=1: not fetching the OHIF viewer; /viewer will answer 503');
    return 0;
  }
  try {
    const r = await obtainViewer({ log: say });
    say(r.status === 'present' ? `${PIN.package}@${r.version} already in ${r.dir}` : `${PIN.package}@${r.version} verified and extracted to ${r.dir}`);
    return 0;
  } catch (err) {
    if (!(err instanceof ViewerFetchError)) throw err;
    const soft = !strict && (err.code === 'registry-unreachable' || err.code === 'pack-failed');
    say(`${soft ? 'WARNING' : 'ERROR'} [${err.code}] ${err.message}`);
    if (soft) {
      say('the gateway will start without the viewer (/viewer answers 503); run `npm run fetch-viewer` once the registry is reachable');
      return 0;
    }
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`limen viewer: ERROR ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
