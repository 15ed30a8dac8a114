/**
 * The composition root: one process with the DIMSE listener, the HTTP app, and the schedulers,
 * wired to storage and the edge. Services start in order; if one cannot start, the process says
 * why and stops what it started. They stop together, under one deadline (`shutdown.ts`).
 */
import { statfsSync } from 'node:fs';
import { configWarnings, PemFileError, readDimseTlsPem, readHttpTlsPem, type DimseTlsPem, type HttpTlsPem, type LimenConfig } from '../../config/index.js';
import { isStorageError, loadConfiguredMasterKey, openStorage, STUDY_STATUSES, UNCONFIRMED_GRACE_MS, type Storage, type StudyStatus, type StudySummary } from '../../storage/index.js';
import { DimseScpService, type DimseScpEvent } from '../dimse/index.js';
import { HttpService, actorOf, createHttpApp, logAuthRefusals, type Role, type StudySummary as HttpStudySummary, type TokenVerifier } from '../http/index.js';
import { createDestinations } from '../export/destinations.js';
import { createExportWorker } from '../export/exporter.js';
import { createProcessWorker } from '../../pipeline/process/process-worker.js';
import { ReviewGate } from '../review/gate.js';
import { DICOMWEB_READ_ROLES, dicomwebReadRoutes } from '../dicomweb/index.js';
import { MemorySessionStore, TokenBoundSessionStore, findProjectRoot, sessionOrBearerAuth, sessionRoutes, viewerPaths, viewerRoutes } from '../viewer/index.js';
import { reviewRoutes } from '../review/routes.js';
import { StudyAccess } from '../http/study-access.js';
import { adminRoutes } from '../admin/routes.js';
import { modelRoutes } from '../models/routes.js';
import { EdgeIngest, ReceiveMemory, compileRoutes } from '../ingest/index.js';
import type { Logger, LogLevel } from '../log/index.js';
import { MetricsRegistry, createEdgeMetrics, createExportMetrics, createProcessMetrics, watchReceiveMemory } from '../metrics/index.js';
import { resolveCaller } from '../../config/index.js';
import { CompletionService } from '../services/completion.js';
import type { Service } from '../services/service.js';
import { egressUIDs, gatewayIdentifiers } from './identifiers.js';
import { servedCertificate, type ServedCertificate } from '../tls/index.js';
import { CertificateWatch, destinationCertificates, listenerCertificates } from '../services/certificate-watch.js';
import { STOP_DEADLINE_MS, stopServices, type StopOutcome } from './shutdown.js';
import { workerPool } from './worker-pool.js';
import { sayRepeatsOnce } from '../log/repeats.js';
import { configurationRecord } from './configuration-record.js';
import { auditRoutes } from '../audit/routes.js';

export interface RunningGateway {
  storage: Storage;
  services: Service[];
  /** Bound addresses (the real ports when configured with 0). */
  http: { host: string; port: number };
  dimse: { host: string; port: number };
  /** The DIMSE TLS listener, when configured. */
  dimseTls?: { host: string; port: number };
  /**
   * Re-reads the TLS files the configuration names and serves the connections that arrive from
   * then on with them: a renewed certificate or a caller CA's new CRL without a restart (`limen
   * start` does it on SIGHUP). All or nothing: when a file cannot serve, it rejects with a
   * `PemFileError` naming the setting, and every listener keeps what it had.
   */
  reloadTls(): Promise<TlsReload>;
  /**
   * Stops every receiver accepting at once, then lets what is in flight finish, all services in
   * parallel, until the stop deadline; past it, what is left is cut off. Then the storage closes.
   * Resolves (never rejects) with what failed; called again, with the same stop.
   */
  stop(): Promise<StopOutcome>;
  /** Stops at once: associations aborted, connections closed, jobs handed back, storage closed. */
  abort(): Promise<StopOutcome>;
}

export interface GatewayOptions {
  /** The stop's budget for draining what is in flight (`STOP_DEADLINE_MS`). */
  stopDeadlineMs?: number;
}

/** The certificates the listeners serve after a reload; none when no TLS listener is configured. */
export interface TlsReload {
  dimse?: ServedCertificate;
  http?: ServedCertificate;
}

export class GatewayStartError extends Error {
  override readonly name = 'GatewayStartError';
}

export async function startGateway(config: LimenConfig, logger: Logger, options: GatewayOptions = {}): Promise<RunningGateway> {
  const compiled = compileRoutes(config);
  if (!compiled.ok) throw new GatewayStartError(compiled.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));

  // Before storage opens: a certificate that cannot serve stops the start with nothing to undo.
  const { dimse: dimseTls, http: httpTls } = await readListenerTls(config).catch((err: Error) => {
    throw err instanceof PemFileError ? new GatewayStartError(err.message) : err;
  });
  const master = await loadConfiguredMasterKey(config.masterKey, (path) =>
    logger.warn({ id: 'gateway.master-key.generated', msg: 'no master key configured: generated one for development; production sets masterKey.file or LIMEN_MASTER_KEY', path }),
  );
  if (master.exposedMode !== undefined) {
    logger.warn({ id: 'gateway.master-key.exposed', msg: `the master key file can be read or written by others than its owner (mode ${master.exposedMode.toString(8).padStart(4, '0')}); chmod 600 it`, path: master.path });
  }
  // Said at every start, not only the first: the key lies beside the data it protects.
  if (master.source === 'data-dir') {
    logger.warn({ id: 'gateway.master-key.development', msg: 'the master key is the one generated for development, kept in the data dir; production sets masterKey.file or LIMEN_MASTER_KEY', path: master.path });
  }
  // The driver repeats itself while the database is unreachable (about three times a second):
  // each message once per half minute, with how many times it came meanwhile.
  const databaseLog = sayRepeatsOnce((msg, repeated, level: LogLevel) => logger.log(level, { id: 'storage.database', msg, ...(repeated > 0 && { repeated }) }), 30_000);
  const storage = await openStorage({
    dataDir: config.dataDir,
    databaseUrl: config.database.url,
    masterKey: master.key,
    serve: true,
    databaseLog: (level, msg) => databaseLog(msg, level),
  }).catch((err: unknown) => {
    if (isStorageError(err, 'data-dir-locked') || isStorageError(err, 'data-dir-mismatch')) throw new GatewayStartError(err.message);
    // SQLite says "disk I/O error" of a disk with no space left: say which.
    if (diskFull(config.dataDir)) throw new GatewayStartError(`the disk holding the data dir ${config.dataDir} is full: free space, then start again (${(err as Error).message})`);
    throw err;
  });
  // Before anything is served: instances whose blob an unclean stop may have kept from the disk.
  const repair = async () => {
    const repaired = await storage.repairUnconfirmedInstances();
    if (repaired.discarded) logger.warn({ id: 'gateway.instances.discarded', msg: 'took back instances whose blob did not reach the disk before an unclean stop (never acknowledged; the sender resends them)', ...repaired });
    return repaired;
  };
  // PostgreSQL: rows too young to tell from another process's stores in flight are checked once they are not.
  const deferredRepair =
    (await repair()).deferred > 0
      ? setTimeout(() => void repair().catch((err: Error) => logger.error({ id: 'gateway.instances.repair-failed', msg: 'unconfirmed instances not checked', err })), UNCONFIRMED_GRACE_MS).unref()
      : undefined;
  // Embedded SQLite means this process alone writes the data dir: whatever an interrupted write
  // left is garbage now. With PostgreSQL other processes may be writing, so only old leftovers go.
  const swept = await storage.sweepOrphanBlobs(storage.dialect === 'sqlite' ? { olderThanSeconds: 0 } : {});
  if (swept.orphanBlobs || swept.tempFiles) logger.info({ id: 'gateway.orphans.removed', msg: 'removed what interrupted writes left (never acknowledged)', ...swept });
  // Likewise, a job still running on SQLite is one the last process was working on when it died:
  // taken up at once, not after its lease (up to two minutes) runs out.
  const reclaimed = storage.dialect === 'sqlite' ? await storage.jobs.expireLeases() : 0;
  if (reclaimed) logger.warn({ id: 'gateway.jobs.reclaimed', msg: `${reclaimed} job(s) the previous process did not finish are taken up again`, count: reclaimed });

  const registry = new MetricsRegistry();
  const metrics = createEdgeMetrics(registry);
  const ingest = new EdgeIngest({ storage, routes: compiled.routes, identifiers: gatewayIdentifiers(master.key), metrics, logger: logger.child({ service: 'edge' }) });
  const receiveMemory = new ReceiveMemory(config.ingest.receiveMemoryBytes);
  watchReceiveMemory(registry, receiveMemory);
  const acceptedSopClasses = [...new Set(Object.values(config.routes).flatMap((r) => r.acceptSopClasses))];

  const dimse = new DimseScpService(
    {
      host: config.dimse.host,
      port: config.dimse.port,
      aeTitle: config.dimse.aeTitle,
      acceptedSopClasses,
      maxPduLength: config.dimse.maxPduLength,
      idleTimeoutMs: config.dimse.associationIdleTimeoutSeconds * 1000,
      maxAssociations: config.dimse.maxAssociations,
      maxDataSetBytes: config.dimse.maxInstanceBytes,
      // An AE bound to its certificate's fingerprint needs the certificate asked for, CA or not.
      ...(dimseTls && { tls: { ...dimseTls, requestCertificate: dimseTls.callerCa !== undefined || config.remoteAEs.some((ae) => ae.tlsCertificateSha256) } }),
    },
    {
      ingest,
      memory: receiveMemory,
      metrics: registry,
      logger: logger.child({ service: 'dimse' }),
      associate: (req) => {
        const r = resolveCaller(config, { ...req, tls: req.transport === 'tls' });
        if (r.ok) return { accept: true, route: r.routeName, acceptedSopClasses: r.route.acceptSopClasses };
        return { accept: false, reason: r.reason };
      },
      onEvent: (event) => void auditAssociation(storage, event, logger),
    },
  );
  const tokenVerifier: TokenVerifier = {
    verifyToken: async (t) => {
      const id = await storage.verifyToken(t);
      return id && { id: id.id, role: id.role, user: id.user ?? undefined };
    },
  };
  // People sign in once (an API token today, OIDC later) and the viewer rides on the session cookie;
  // a session opened with a token ends with it (expired or revoked).
  const sessions = new TokenBoundSessionStore(new MemorySessionStore(), storage.tokens);
  const publicOrigin = config.http.publicUrl;
  // A refused person is logged as a refused STOW sender is.
  const httpLogger = logger.child({ service: 'http' });
  const onAuthRejected = logAuthRefusals(httpLogger);
  const personAuth = (roles: readonly Role[]) => sessionOrBearerAuth({ tokens: tokenVerifier, sessions, roles, onRejected: onAuthRejected, ...(publicOrigin && { publicOrigin }) });
  const app = createHttpApp({
    ingest,
    personAuth,
    receiveMemory,
    tokens: tokenVerifier,
    studies: {
      statuses: STUDY_STATUSES,
      listStudies: async (page) => (await storage.listStudies({ ...page, status: page.status as StudyStatus | undefined })).studies.map(studyView),
      getStudy: async (uid) => {
        const s = await storage.getStudy(uid);
        return s && studyView(s);
      },
    },
    metrics: registry,
    // The database's own words (an address, a user name) go to the log only: see `healthRoutes`.
    readiness: async () => {
      const database = await storage.ping().then(() => ({ ok: true }), (e: Error) => ({ ok: false, message: e.message }));
      const dimseOk = { ok: dimse.status === 'running' };
      return { ready: database.ok && dimseOk.ok, checks: { database, dimse: dimseOk } };
    },
    logger: httpLogger,
    routeForToken: () => 'default',
    // Written before any of the request is stored: every instance's event names a request on record.
    onStowRequest: (r) => storage.audit.append({ type: 'stow.request', actor: actorOf({ id: r.tokenId, user: r.user }), detail: { ...r } }).then(() => undefined),
    options: {
      maxInstanceBytes: config.http.maxInstanceBytes,
      maxConcurrentStowRequests: config.http.maxConcurrentStowRequests,
      ...(publicOrigin && { publicOrigin }),
    },
  });
  const exporter = createExportWorker({
    storage,
    destinations: createDestinations(config.destinations, config.dimse.aeTitle, config.export.timeoutSeconds),
    egressUID: egressUIDs(master.key),
    config,
    logger: logger.child({ service: 'export' }),
    metrics: createExportMetrics(registry, Object.keys(config.destinations)),
  });
  // worker.concurrency workers, each with one job (and one pipeline thread) at a time.
  const processMetrics = createProcessMetrics(registry);
  const processor = workerPool(config.worker.concurrency, `processor-${process.pid}`, (workerId) =>
    createProcessWorker({
      onOutcome: (outcome) => processMetrics.runs.inc({ outcome }),
      storage,
      config,
      workerId,
      idleMs: config.worker.pollIntervalMs,
      // A failure to be retried is a warning; a dead job, or a study left unrecorded, an error.
      log: (e) => logger.log(e.id === 'process.failed' ? (e.outcome === 'dead' ? 'error' : 'warn') : e.id === 'process.status-failed' ? 'error' : 'info', { ...e, service: 'pipeline' }),
    }),
  );
  // Queuing a job wakes its worker: an approval is delivered at once, not at the next poll.
  const completion = new CompletionService(storage, metrics, logger.child({ service: 'completion' }), { onJobsQueued: () => processor.poke() });
  const gate = new ReviewGate(storage, config, () => exporter.poke());
  // Who read which study's images or results, once per person, study and hour; ahead of the routes.
  const studyAccess = new StudyAccess({ append: (e) => storage.audit.append(e), logger: httpLogger });
  for (const path of ['/dicomweb/studies/:study', '/dicomweb/studies/:study/*']) app.use(path, studyAccess.middleware('study', 'dicomweb'));
  for (const path of ['/api/v1/results/:uid', '/api/v1/results/:uid/*']) app.use(path, studyAccess.middleware('uid', 'results'));
  // Behind a TLS proxy the request reaches Limen over plain HTTP: the public URL says the cookie travels over HTTPS.
  app.route(
    '/api/v1',
    sessionRoutes({
      tokens: tokenVerifier,
      sessions,
      secure: publicOrigin?.startsWith('https:') ? true : 'auto',
      onAuthRejected,
      // Who signed in to the viewer, and out, with which token: in the audit trail before the answer.
      onSessionEvent: (e) => storage.audit.append({ type: e.type, actor: actorOf({ id: e.tokenId, user: e.user }), detail: { sessionId: e.sessionId, method: e.method, role: e.role, tokenId: e.tokenId, ...(e.remoteAddress && { remoteAddress: e.remoteAddress }) } }).then(() => undefined),
      ...(publicOrigin && { publicOrigin }),
    }),
  );
  app.route('/api/v1', reviewRoutes({ storage, gate, tokens: tokenVerifier, auth: personAuth }));
  app.route('/api/v1', adminRoutes({ storage, modelsDir: config.models.dir, tokens: tokenVerifier, auth: personAuth, onJobQueued: (type) => (type === 'export' ? exporter : processor).poke() }));
  app.route('/api/v1', modelRoutes({ modelsDir: config.models.dir, tokens: tokenVerifier, auth: personAuth }));
  app.route('/api/v1', auditRoutes({ storage, tokens: tokenVerifier, auth: personAuth }));
  app.route(
    '/dicomweb',
    dicomwebReadRoutes({
      source: storage,
      tokens: tokenVerifier,
      logger: logger.child({ service: 'dicomweb' }),
      auth: personAuth(DICOMWEB_READ_ROLES),
      onStudiesRead: async (identity, studies) => {
        for (const study of studies) await studyAccess.record(identity, study, 'dicomweb');
      },
      ...(publicOrigin && { publicOrigin }),
    }),
  );
  const root = findProjectRoot(import.meta.url) ?? process.cwd();
  app.route('/viewer', viewerRoutes({ ...viewerPaths(root), sessions, logger: logger.child({ service: 'viewer' }) }));
  const http = new HttpService({ host: config.http.host, port: config.http.port, fetch: app.fetch, logger, ...(httpTls && { tls: httpTls }) });

  const certificates = new CertificateWatch({ registry, logger, destinations: () => destinationCertificates(config) });
  certificates.serving(listenerCertificates(servedCertificates({ dimse: dimseTls, http: httpTls })));

  // A process with the worker disabled only receives and serves; another process runs the jobs.
  const services: Service[] = [completion, ...(config.worker.enabled ? [processor] : []), exporter, dimse, http, certificates];
  const started: Service[] = [];
  try {
    for (const s of services) {
      await s.start();
      started.push(s);
    }
  } catch (err) {
    clearTimeout(deferredRepair);
    for (const s of started.reverse()) await s.stop().catch(() => {});
    await storage.close();
    throw new GatewayStartError(`the ${services[started.length].name} service could not start: ${(err as Error).message}`);
  }
  for (const w of configWarnings(config)) logger.warn({ id: 'gateway.config.warning', msg: w.message, code: w.code, path: w.path });
  // The audit trail's head, in the log at every start and stop: kept outside the database, it is
  // what `limen audit verify --expect-head` checks a trail against whose newest events were removed.
  const auditHead = async (): Promise<string | null> => {
    const head = await storage.audit.head().catch(() => undefined);
    return head === undefined ? null : head ? `${head.seq}:${head.hash}` : 'none';
  };
  logger.info({ id: 'gateway.started', msg: 'Limen is running', http: http.address, dimse: dimse.address, dimseTls: dimse.tlsAddress, aeTitle: config.dimse.aeTitle, database: storage.dialect, auditHead: await auditHead() });
  // The rules every study from now on is received under, in the trail beside the studies.
  await storage.audit.append({ type: 'gateway.started', actor: 'gateway', detail: configurationRecord(config) }).catch((err: Error) => {
    logger.error({ id: 'gateway.audit.failed', msg: 'the configuration the gateway started with is not in the audit trail', err });
  });

  let stopping: Promise<StopOutcome> | undefined;
  const cutOff = new AbortController();
  const stop = () =>
    (stopping ??= (async () => {
      clearTimeout(deferredRepair);
      const deadlineMs = options.stopDeadlineMs ?? STOP_DEADLINE_MS;
      logger.info({ id: 'gateway.stopping', msg: 'no new associations or requests; draining what is in flight', deadlineMs });
      const jobs = () => [...processor.current, exporter.current].filter((j) => j !== undefined);
      for (const job of jobs()) logger.info({ id: 'gateway.stop.job-waiting', msg: `waiting for ${job.type} job ${job.id} to finish`, job: job.id, type: job.type, study: job.studyInstanceUID });
      // Said before the workers, listening to the same signal, let go of them.
      const released = () => {
        for (const job of jobs()) logger.warn({ id: 'gateway.stop.job-released', msg: `${job.type} job ${job.id} cut off and handed back: the next start runs it again at once`, job: job.id, type: job.type, study: job.studyInstanceUID });
      };
      if (cutOff.signal.aborted) released();
      else cutOff.signal.addEventListener('abort', released, { once: true });
      let lastHead: string | null = null;
      const close = async () => {
        lastHead = await auditHead();
        await storage.close();
      };
      const outcome = await stopServices([http, dimse, exporter, processor, completion, certificates], { deadlineMs, cutOff, logger, close });
      logger.log(outcome.ok ? 'info' : 'error', { id: 'gateway.stopped', msg: outcome.ok ? 'Limen stopped' : 'Limen stopped, not cleanly', cutOff: outcome.cutOff, failed: outcome.failures.map((f) => f.name), auditHead: lastHead });
      return outcome;
    })());
  return {
    storage,
    services,
    http: http.address!,
    dimse: dimse.address!,
    dimseTls: dimse.tlsAddress,
    async reloadTls() {
      if (!config.dimse.tls && !config.http.tls) {
        logger.info({ id: 'gateway.tls.unchanged', msg: 'no TLS listener is configured: nothing to reload' });
        return {};
      }
      let pem;
      try {
        // Every file read and checked before any listener changes.
        pem = await readListenerTls(config);
        if (pem.dimse) dimse.reloadTls(pem.dimse);
        if (pem.http) http.reloadTls(pem.http);
      } catch (err) {
        logger.error({ id: 'gateway.tls.reload-failed', msg: `TLS files not reloaded, the listeners keep serving what they had: ${(err as Error).message}` });
        throw err;
      }
      const reloaded = servedCertificates(pem);
      logger.info({ id: 'gateway.tls.reloaded', msg: 'new TLS connections are served with the files as they are now', ...reloaded });
      certificates.serving(listenerCertificates(reloaded));
      return reloaded;
    },
    stop,
    abort: () => {
      cutOff.abort();
      return stop();
    },
  };
}

/** The listeners' TLS files, read and checked one after the other: a `PemFileError` names the first that cannot serve. */
async function readListenerTls(config: LimenConfig): Promise<{ dimse?: DimseTlsPem; http?: HttpTlsPem }> {
  return { dimse: config.dimse.tls && (await readDimseTlsPem(config.dimse.tls)), http: config.http.tls && (await readHttpTlsPem(config.http.tls)) };
}

function servedCertificates(pem: { dimse?: { certificate: Buffer }; http?: { certificate: Buffer } }): TlsReload {
  return { ...(pem.dimse && { dimse: servedCertificate(pem.dimse.certificate) }), ...(pem.http && { http: servedCertificate(pem.http.certificate) }) };
}

/** The admin API's view of a study: pseudonymous UID, status, counts, route, times. */
function studyView(s: StudySummary): HttpStudySummary {
  return { ...s, receivedAt: s.firstReceivedAt ?? '', expiresAt: s.expiresAt ?? '' };
}

async function auditAssociation(storage: Storage, event: DimseScpEvent, logger: Logger): Promise<void> {
  try {
    await storage.audit.append({ type: `association.${event.type.replace('association-', '')}`, actor: event.callingAETitle, detail: { ...event } as Record<string, unknown> });
  } catch (err) {
    logger.error({ id: 'gateway.audit.failed', msg: 'association audit event not recorded', err });
  }
}

/** Whether the file system holding `dir` has no space left for Limen's writes. */
function diskFull(dir: string): boolean {
  try {
    return statfsSync(dir).bavail === 0;
  } catch {
    return false;
  }
}
