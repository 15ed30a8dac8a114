/**
 * A Limen read side for benchmarks: a fresh storage (SQLite in a work directory, or PostgreSQL),
 * the HTTP app with the DICOMweb read routes and the session route mounted as the gateway mounts
 * them (a session cookie or a bearer token), served on a loopback port, and a reviewer's token and
 * session. Requests go over real HTTP, as a viewer's do.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { compileRoutes, EdgeIngest } from '../../gateway/ingest/index.js';
import { DICOMWEB_READ_ROLES, dicomwebReadRoutes, InstanceCache, type InstanceCacheOptions } from '../../gateway/dicomweb/index.js';
import { MemorySessionStore, SESSION_COOKIE, sessionOrBearerAuth, sessionRoutes } from '../../gateway/viewer/index.js';
import { createHttpApp, HttpService } from '../../gateway/http/index.js';
import { silentLogger } from '../../gateway/log/index.js';
import { createEdgeMetrics, MetricsRegistry } from '../../gateway/metrics/index.js';
import { gatewayIdentifiers } from '../../gateway/process/identifiers.js';
import { loadConfigOrThrow } from '../../config/index.js';
import { openStorage, type Storage } from '../../storage/index.js';

export interface BenchServer {
  storage: Storage;
  ingest: EdgeIngest;
  /** `http://127.0.0.1:<port>/dicomweb` */
  root: string;
  /** A reviewer's bearer token, as a script presents it. */
  headers: Record<string, string>;
  /** A reviewer's session cookie, as the viewer presents it. */
  sessionHeaders: Record<string, string>;
  /** The read routes' cache of decrypted instances. */
  cache: InstanceCache;
  /** Stops the server and removes its work directory. */
  stop(): Promise<void>;
}

/** Starts it in `work` (emptied first). */
export async function startBenchServer(work: string, databaseUrl?: string, cacheOptions?: InstanceCacheOptions): Promise<BenchServer> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const masterKey = randomBytes(32);
  const storage = await openStorage({ dataDir: join(work, 'var'), databaseUrl, masterKey });
  const config = loadConfigOrThrow({ env: { LIMEN_DATA_DIR: join(work, 'var') }, cwd: work });
  const compiled = compileRoutes(config);
  if (!compiled.ok) throw new Error('the default route does not compile');
  const registry = new MetricsRegistry();
  const ingest = new EdgeIngest({ storage, routes: compiled.routes, identifiers: gatewayIdentifiers(masterKey), metrics: createEdgeMetrics(registry), logger: silentLogger });
  const tokens = {
    verifyToken: async (t: string) => {
      const id = await storage.verifyToken(t);
      return id && { id: id.id, role: id.role, user: id.user ?? undefined };
    },
  };
  const app = createHttpApp({
    ingest,
    tokens,
    studies: { statuses: [], listStudies: async () => [], getStudy: async () => null },
    metrics: registry,
    readiness: async () => ({ ready: true, checks: {} }),
    logger: silentLogger,
    routeForToken: () => 'default',
  });
  // As the composition root wires them (gateway/process/gateway.ts).
  const sessions = new MemorySessionStore();
  const cache = new InstanceCache(cacheOptions);
  app.route('/api/v1', sessionRoutes({ tokens, sessions }));
  app.route('/dicomweb', dicomwebReadRoutes({ source: storage, tokens, logger: silentLogger, auth: sessionOrBearerAuth({ tokens, sessions, roles: DICOMWEB_READ_ROLES }), instanceCache: cache }));
  const http = new HttpService({ fetch: app.fetch, host: '127.0.0.1', port: 0, logger: silentLogger });
  await http.start();
  const token = (await storage.createToken({ role: 'reviewer', user: 'bench', ttlSeconds: 86400 })).token;
  const base = `http://127.0.0.1:${http.address!.port}`;
  const signIn = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const cookie = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(signIn.headers.get('set-cookie') ?? '')?.[1];
  if (signIn.status !== 201 || !cookie) throw new Error(`no session: ${signIn.status}`);
  return {
    storage,
    ingest,
    root: `${base}/dicomweb`,
    headers: { authorization: `Bearer ${token}` },
    sessionHeaders: { cookie: `${SESSION_COOKIE}=${cookie}` },
    cache,
    async stop() {
      await http.stop();
      await storage.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** The p-th percentile (0–100) by nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
