/**
 * The DICOMweb read side over a real storage: a temporary SQLite data dir, instances de-identified
 * and stored by the real edge, tokens from storage, and the HTTP app with the read routes mounted
 * exactly as the composition root mounts them. Requests go in process (`app.request`), or over a
 * socket with `listen()` for the independent clients.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { loadConfigOrThrow } from '../../../config/index.js';
import { dicomwebReadRoutes, InstanceCache, type InstanceCacheOptions } from '../../../gateway/dicomweb/index.js';
import { createHttpApp, HttpService, type AppEnv, type StudySummary as HttpStudySummary } from '../../../gateway/http/index.js';
import { compileRoutes, EdgeIngest, type IngestOutcome } from '../../../gateway/ingest/index.js';
import { createLogger } from '../../../gateway/log/index.js';
import { createEdgeMetrics, MetricsRegistry } from '../../../gateway/metrics/index.js';
import { gatewayIdentifiers } from '../../../gateway/process/identifiers.js';
import { uid, variant } from './variants.js';
import { BLOB_DIR, openStorage, STUDY_STATUSES, type Role, type Storage, type StudyStatus, type StudySummary } from '../../../storage/index.js';

/** SOP Classes the test route accepts: the CT the pipeline reads, and what the corpus brings. */
const SOP_CLASSES = [
  '1.2.840.10008.5.1.4.1.1.2', // CT
  '1.2.840.10008.5.1.4.1.1.4', // MR
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture
  '1.2.840.10008.5.1.4.1.1.481.2', // RT Dose
];

/**
 * `default` is the Basic Profile (dates and descriptions go); `dated` keeps dates, patient
 * characteristics and cleaned descriptions, so searches on them have something to match.
 */
const CONFIG = `
routes:
  default:
    stableSeconds: 3600
    acceptSopClasses: [${SOP_CLASSES.map((s) => `'${s}'`).join(', ')}]
    deidentification:
      allowBurnedIn: true
  dated:
    stableSeconds: 3600
    acceptSopClasses: [${SOP_CLASSES.map((s) => `'${s}'`).join(', ')}]
    deidentification:
      allowBurnedIn: true
      options: [retainLongitudinalFullDates, retainPatientCharacteristics, cleanDescriptors]
`;

export type TestRoute = 'default' | 'dated';

export interface ReadHarness {
  storage: Storage;
  app: Hono<AppEnv>;
  logs: string[];
  tokens: Record<'reviewer' | 'admin' | 'auditor' | 'modality', string>;
  /** The read routes' cache of decrypted instances. */
  cache: InstanceCache;
  /** De-identifies and stores files (paths or bytes) through the edge. */
  seed(files: ReadonlyArray<string | Uint8Array>, route?: TestRoute): Promise<IngestOutcome[]>;
  /** Seeds copies of fixtures as one new series: the copies, and the pseudonymous UIDs Limen stored them under. */
  seedSeries(fixtures: readonly string[]): Promise<{ files: Uint8Array[]; study: string; series: string; sops: string[] }>;
  /** An in-process request, as the reviewer unless another token (or none) is given. */
  get(path: string, headers?: Record<string, string>, token?: string | null): Promise<Response>;
  /** Flips a byte in the blob of `sop` of `study` (blob names say nothing: tries each until that instance fails). */
  tamper(study: string, sop: string): Promise<void>;
  /** Serves the app on a loopback port; returns its base URL. */
  listen(): Promise<string>;
  dispose(): Promise<void>;
}

export async function makeReadHarness(options: { instanceCache?: InstanceCacheOptions } = {}): Promise<ReadHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'limen-dicomweb-'));
  const file = join(dir, 'limen.yaml');
  writeFileSync(file, CONFIG);
  const config = loadConfigOrThrow({ file, env: { LIMEN_DATA_DIR: join(dir, 'var') } });
  const compiled = compileRoutes(config);
  if (!compiled.ok) throw new Error(compiled.issues.map((i) => i.message).join('; '));
  const masterKey = randomBytes(32);
  const storage = await openStorage({ dataDir: config.dataDir, masterKey });
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  const registry = new MetricsRegistry();
  const ingest = new EdgeIngest({ storage, routes: compiled.routes, identifiers: gatewayIdentifiers(masterKey), metrics: createEdgeMetrics(registry), logger });
  const tokens = {
    verifyToken: async (t: string) => {
      const id = await storage.verifyToken(t);
      return id && { id: id.id, role: id.role, user: id.user ?? undefined };
    },
  };
  const view = (s: StudySummary): HttpStudySummary => ({ ...s, receivedAt: s.firstReceivedAt ?? '', expiresAt: s.expiresAt ?? '' });
  const app = createHttpApp({
    ingest,
    tokens,
    studies: {
      statuses: STUDY_STATUSES,
      listStudies: async (page) => (await storage.listStudies({ ...page, status: page.status as StudyStatus | undefined })).studies.map(view),
      getStudy: async (uid) => {
        const s = await storage.getStudy(uid);
        return s && view(s);
      },
    },
    metrics: registry,
    readiness: async () => ({ ready: true, checks: {} }),
    logger,
    routeForToken: () => 'default',
  });
  const cache = new InstanceCache(options.instanceCache);
  app.route('/dicomweb', dicomwebReadRoutes({ source: storage, tokens, logger: logger.child({ service: 'dicomweb' }), instanceCache: cache }));

  const token = async (role: Role) => (await storage.createToken({ role, user: `test-${role}`, ttlSeconds: 3600 })).token;
  const issued = { reviewer: await token('reviewer'), admin: await token('admin'), auditor: await token('auditor'), modality: await token('modality') };
  const seed: ReadHarness['seed'] = async (files, route = 'default') => {
    const out: IngestOutcome[] = [];
    for (const f of files) {
      const bytes = typeof f === 'string' ? readFileSync(f) : f;
      const outcome = await ingest.ingest({ format: 'part10', bytes, route, source: { kind: 'upload' } });
      if (!outcome.ok) throw new Error(`the edge refused ${typeof f === 'string' ? f : 'an instance'}: ${outcome.reason}`);
      out.push(outcome);
    }
    return out;
  };
  let service: HttpService | undefined;

  return {
    storage,
    app,
    logs,
    tokens: issued,
    cache,
    seed,
    async seedSeries(fixtures) {
      const ids = { study: uid(), series: uid() };
      const files = fixtures.map((f) => variant(f, {}, ids));
      const [first] = await seed(files);
      if (!first.ok) throw new Error('not stored');
      const listed = await storage.listInstances(first.studyInstanceUID);
      return { files, study: first.studyInstanceUID, series: listed[0].seriesInstanceUID, sops: listed.map((i) => i.sopInstanceUID) };
    },
    get(path, headers = {}, tokenValue = issued.reviewer) {
      const h: Record<string, string> = { ...headers };
      if (tokenValue !== null) h.authorization = `Bearer ${tokenValue}`;
      return Promise.resolve(app.request(path, { headers: h }));
    },
    async tamper(study, sop) {
      const dir = join(storage.dataDir, BLOB_DIR, study);
      for (const file of readdirSync(dir).map((f) => join(dir, f))) {
        const original = readFileSync(file);
        const bytes = Buffer.from(original);
        bytes[bytes.length - 40] ^= 0x01;
        writeFileSync(file, bytes);
        if (!(await storage.getInstanceBlob(sop).then(() => true, () => false))) return;
        writeFileSync(file, original);
      }
      throw new Error(`no blob of ${sop}`);
    },
    async listen() {
      service ??= new HttpService({ fetch: app.fetch, host: '127.0.0.1', port: 0, logger });
      if (service.status !== 'running') await service.start();
      return `http://127.0.0.1:${service.address!.port}`;
    },
    async dispose() {
      await service?.stop();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A multipart/related body split into parts (headers by lower-cased name, raw bytes). */
export function splitMultipart(contentType: string | null, body: Uint8Array): Array<{ headers: Record<string, string>; body: Buffer }> {
  const m = /boundary="?([^";]+)"?/i.exec(contentType ?? '');
  if (!m) throw new Error(`no boundary in ${contentType}`);
  const buf = Buffer.from(body);
  const delimiter = Buffer.from(`--${m[1]}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let at = buf.indexOf(delimiter);
  if (at < 0) throw new Error('no delimiter');
  for (;;) {
    at += delimiter.length;
    if (buf.subarray(at, at + 2).toString() === '--') break;
    at += 2; // CRLF after the boundary
    const headEnd = buf.indexOf('\r\n\r\n', at);
    const headers: Record<string, string> = {};
    for (const line of buf.subarray(at, headEnd).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = buf.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd + 4);
    if (next < 0) throw new Error('truncated multipart body');
    parts.push({ headers, body: buf.subarray(headEnd + 4, next) });
    at = next + 2;
  }
  return parts;
}
