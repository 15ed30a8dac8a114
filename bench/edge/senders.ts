/**
 * The two ways a hospital pushes a study, as the benchmark drives them:
 *   - DIMSE: DCMTK `storescu` (TCP_NODELAY=1), the series split into N contiguous groups sent by
 *     N storescu processes in parallel, one association each;
 *   - STOW-RS: multipart/related bodies of `batch` instances built in memory before the clock
 *     starts, POSTed with fetch, `inFlight` requests at a time.
 * Both resolve with the wall time from the first byte sent to the last answer.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { StowEndpoint } from './targets.js';

export const STORESCU = '/usr/bin/storescu';

/** Splits `files` into `n` contiguous groups of nearly equal size. */
export function splitInto<T>(items: readonly T[], n: number): T[][] {
  const groups: T[][] = [];
  const size = Math.ceil(items.length / n);
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}

/** A sender's own certificate and key, and the CA it checks the receiver's certificate against. */
export interface SenderTls {
  certificate: string;
  privateKey: string;
  ca: string;
}

/** The storescu command line for one group (as the report shows it). */
export function storescuArgs(aeTitle: string, port: number, files: readonly string[], tls?: SenderTls): string[] {
  const tlsArgs = tls ? ['+tls', tls.privateKey, tls.certificate, '+cf', tls.ca] : [];
  return [...tlsArgs, '-aet', 'BENCHSCU', '-aec', aeTitle, '127.0.0.1', String(port), ...files];
}

/**
 * Sends `files` over `streams` parallel storescu processes, each with one association for its
 * contiguous group; or, `perInstance`, one storescu process (one association) per file, `streams`
 * at a time. Rejects when any of them fails.
 */
export async function sendDimse(files: readonly string[], streams: number, target: { port: number; aeTitle: string }, perInstance = false, tls?: SenderTls): Promise<number> {
  const started = performance.now();
  if (perInstance) {
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < files.length) await storescu(target, [files[next++]], tls);
    };
    await Promise.all(Array.from({ length: streams }, sender));
  } else await Promise.all(splitInto(files, streams).map((group) => storescu(target, group, tls)));
  return (performance.now() - started) / 1000;
}

function storescu(target: { port: number; aeTitle: string }, files: readonly string[], tls?: SenderTls): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(STORESCU, storescuArgs(target.aeTitle, target.port, files, tls), { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`storescu exited ${code}: ${stderr.slice(0, 2000)}`))));
  });
}

/** A multipart/related body and its Content-Type. */
export interface StowBody {
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
  instances: number;
}

/** Builds one `multipart/related; type="application/dicom"` body per batch of files. */
export function buildStowBodies(files: readonly string[], batch: number): StowBody[] {
  return splitInto(files, Math.ceil(files.length / batch)).map((group) => {
    const boundary = `limen-bench-${randomBytes(12).toString('hex')}`;
    const parts: Buffer[] = [];
    for (const f of group) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1'), readFileSync(f), Buffer.from('\r\n', 'latin1'));
    }
    parts.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
    return { contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`, body: new Uint8Array(Buffer.concat(parts)) as Uint8Array<ArrayBuffer>, instances: group.length };
  });
}

/** POSTs every body, `inFlight` at a time; rejects unless each answer is 200. */
export async function sendStow(bodies: readonly StowBody[], inFlight: number, endpoint: StowEndpoint): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const b = bodies[next++];
      const r = await fetch(endpoint.url, {
        method: 'POST',
        headers: { ...endpoint.headers, 'content-type': b.contentType, accept: 'application/dicom+json' },
        body: b.body,
      });
      const text = await r.text();
      if (r.status !== 200) throw new Error(`STOW-RS ${endpoint.url}: ${r.status} ${text.slice(0, 500)}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (performance.now() - started) / 1000;
}
