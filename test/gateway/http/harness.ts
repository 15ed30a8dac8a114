/**
 * Test doubles for the HTTP app's dependencies. The ingest records what it is given and
 * answers like the edge would, failing the instances a test chooses (by content hash).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestFailureCode, IngestInstance, IngestOutcome, InstanceIngest } from '../../../gateway/ingest/types.js';
import { createLogger, type Logger } from '../../../gateway/log/index.js';
import { MetricsRegistry } from '../../../gateway/metrics/index.js';
import type { HttpAppDeps, Identity, Readiness, StudySummary } from '../../../gateway/http/index.js';

export const CT_DIR = 'test/fixtures/ct-fakephi/dicom';
export const CT_STUDY_UID = '2.25.275125388161106205339115534722811304435';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface Fixture {
  file: string;
  bytes: Buffer;
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
}

/** Reads fixture files and their UIDs as pydicom sees them (an independent reader). */
export function loadFixtures(files: string[]): Fixture[] {
  const script =
    'import json,sys,pydicom\n' +
    'print(json.dumps([[str(d.SOPClassUID),str(d.SOPInstanceUID),str(d.StudyInstanceUID)] for d in (pydicom.dcmread(p) for p in sys.argv[1:])]))';
  const uids = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, ...files], { encoding: 'utf8' })) as string[][];
  return files.map((file, i) => ({
    file,
    bytes: readFileSync(file),
    sopClassUID: uids[i][0],
    sopInstanceUID: uids[i][1],
    studyInstanceUID: uids[i][2],
  }));
}

export const ctFile = (n: number) => join(CT_DIR, `CT${String(n).padStart(6, '0')}.dcm`);

/** The same instance moved to another study: same lengths, other StudyInstanceUID. */
export function inOtherStudy(f: Fixture): Fixture {
  const other = f.studyInstanceUID.slice(0, -1) + (f.studyInstanceUID.endsWith('1') ? '2' : '1');
  const bytes = Buffer.from(f.bytes.toString('latin1').split(f.studyInstanceUID).join(other), 'latin1');
  return { ...f, bytes, studyInstanceUID: other };
}

export class RecordingIngest implements InstanceIngest {
  readonly calls: IngestInstance[] = [];
  /** Content hash → the failure to answer with. */
  readonly failures = new Map<string, IngestFailureCode>();
  /** Content hashes for which ingest throws (a defect in the edge). */
  readonly throwing = new Set<string>();

  failWith(bytes: Uint8Array, code: IngestFailureCode): this {
    this.failures.set(sha256(bytes), code);
    return this;
  }

  async ingest(instance: IngestInstance): Promise<IngestOutcome> {
    this.calls.push({ ...instance, bytes: Uint8Array.from(instance.bytes) });
    const h = sha256(instance.bytes);
    if (this.throwing.has(h)) throw new Error('disk controller on fire');
    const code = this.failures.get(h);
    if (code) return { ok: false, code, reason: `test failure: ${code}` };
    // Pseudonymous UIDs, different from the sender's: the response must not use these.
    const pseudo = `2.25.${BigInt('0x' + h.slice(0, 24)).toString()}`;
    return { ok: true, sopClassUID: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUID: pseudo, studyInstanceUID: pseudo + '.1', duplicate: false };
  }
}

export const TOKENS: Record<string, Identity> = {
  'modality-token': { role: 'modality', user: 'ct-scanner-7', id: 'tok-1' },
  'admin-token': { role: 'admin', user: 'it-admin', id: 'tok-2' },
  'reviewer-token': { role: 'reviewer', user: 'dr-who', id: 'tok-3' },
};

export const STUDIES: StudySummary[] = [
  {
    studyInstanceUID: '2.25.1001',
    status: 'receiving',
    seriesCount: 1,
    instanceCount: 112,
    route: 'default',
    receivedAt: '2025-01-01T10:00:00.000Z',
    expiresAt: '2025-01-31T10:00:00.000Z',
  },
  {
    studyInstanceUID: '2.25.1002',
    status: 'complete',
    seriesCount: 2,
    instanceCount: 30,
    route: 'ct',
    receivedAt: new Date('2025-01-02T10:00:00.000Z'),
    expiresAt: new Date('2025-02-01T10:00:00.000Z'),
  },
];

export interface Harness {
  deps: HttpAppDeps;
  ingest: RecordingIngest;
  logLines: string[];
  listCalls: { limit: number; offset: number; status?: string }[];
  setReadiness(r: Readiness | Error): void;
}

export function makeHarness(overrides: Partial<HttpAppDeps> = {}): Harness {
  const ingest = new RecordingIngest();
  const logLines: string[] = [];
  const logger: Logger = createLogger({ level: 'debug', write: (l) => logLines.push(l) });
  const listCalls: { limit: number; offset: number; status?: string }[] = [];
  let readiness: Readiness | Error = { ready: true, checks: { database: { ok: true } } };
  const deps: HttpAppDeps = {
    ingest,
    tokens: { verifyToken: async (t) => TOKENS[t] ?? null },
    studies: {
      statuses: ['receiving', 'complete'],
      listStudies: async (page) => {
        listCalls.push(page);
        return STUDIES.filter((s) => page.status === undefined || s.status === page.status).slice(page.offset, page.offset + page.limit);
      },
      getStudy: async (uid) => STUDIES.find((s) => s.studyInstanceUID === uid) ?? null,
    },
    metrics: new MetricsRegistry(),
    readiness: async () => {
      if (readiness instanceof Error) throw readiness;
      return readiness;
    },
    logger,
    routeForToken: (id) => (id.user === 'ct-scanner-7' ? 'ct' : 'default'),
    options: { maxInstanceBytes: 1024 * 1024 },
    ...overrides,
  };
  return { deps, ingest, logLines, listCalls, setReadiness: (r) => (readiness = r) };
}

/** A multipart/related body as a STOW client writes it. */
export function multipart(parts: { bytes: Uint8Array; contentType?: string | null }[], boundary = 'limen-test-boundary'): Buffer {
  const pieces: Buffer[] = [];
  for (const p of parts) {
    const ct = p.contentType === null ? '' : `Content-Type: ${p.contentType ?? 'application/dicom'}\r\n`;
    pieces.push(Buffer.from(`\r\n--${boundary}\r\n${ct}\r\n`, 'latin1'), Buffer.from(p.bytes));
  }
  pieces.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(pieces);
}

export const STOW_TYPE = (boundary = 'limen-test-boundary') => `multipart/related; type="application/dicom"; boundary=${boundary}`;
