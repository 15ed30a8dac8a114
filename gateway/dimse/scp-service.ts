/**
 * The DIMSE SCP as a long-running service: listens on its own `net.Server`, bound only to
 * the configured host (dcmjs-dimse's `Server.listen` binds every interface), and, when TLS is
 * configured, on a `tls.Server` beside it; it hands each connection to an `ScpAssociation`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, createSecureContext, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from '../log/index.js';
import { countRefusedInstances, type MetricsRegistry, type RefusalReason } from '../metrics/index.js';
import { listenerContext } from '../tls/index.js';
import { silenceDimseLog } from './dcmjs-dimse.js';
import { aeTitleIssue, DimseError, type DimseIssue } from './errors.js';
import { message, type MessageName } from './messages.js';
import type { AssociationRejectReason } from './rejection.js';
import { ScpAssociation, type AssociationContext, type ScpSettings } from './scp-association.js';
import { LocalFailure, type LocalFailureReason } from './status.js';
import {
  DIMSE_SCP_DEFAULTS,
  type DimseScpDependencies,
  type DimseScpEvent,
  type DimseScpOptions,
  type DimseTlsCredentials,
  type DimseTlsOptions,
  type ServiceStatus,
} from './types.js';
import { DEFAULT_ACCEPTED_TRANSFER_SYNTAXES } from './uids.js';

/** PS3.8 §9.3.1: a maximum length below this cannot carry a useful P-DATA-TF. */
const MIN_PDU_LENGTH = 4096;
/** What dcmjs-dimse announces at most, whatever it is asked. */
const LIBRARY_MAX_PDU_LENGTH = 262_144;

export class DimseScpService {
  readonly name = 'dimse-scp';
  private statusValue: ServiceStatus = 'stopped';
  private servers: Server[] = [];
  private bound?: { host: string; port: number };
  private tlsBound?: { host: string; port: number };
  private tlsServer?: TlsServer;
  private readonly associations = new Set<ScpAssociation>();
  /** Every connection to the TLS listener, its handshake done or not. */
  private readonly tlsConnections = new Set<Socket>();
  private readonly settings: ScpSettings;
  private readonly context: AssociationContext;
  private readonly log: Logger;
  private stopping?: Promise<void>;

  constructor(
    private readonly options: DimseScpOptions,
    private readonly deps: DimseScpDependencies,
  ) {
    this.settings = resolveSettings(options);
    this.log = deps.logger.child({ service: this.name });
    this.context = {
      settings: this.settings,
      ingest: deps.ingest,
      ...(deps.memory && { memory: deps.memory }),
      associate: deps.associate,
      logger: this.log,
      admit: () => this.admit(),
      report: (event) => this.report(event),
      ...(deps.metrics && { refused: countLocalFailures(deps.metrics) }),
    };
  }

  get status(): ServiceStatus {
    return this.statusValue;
  }

  /** The address actually bound (the port is known only after `start()` when 0 was asked). */
  get address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  /** The TLS listener's address, when TLS is configured and the service runs. */
  get tlsAddress(): { host: string; port: number } | undefined {
    return this.tlsBound;
  }

  /** Associations open or still finishing a C-STORE. */
  get associationCount(): number {
    return this.associations.size;
  }

  /** Resolves once listening; rejects with `listen-failed` (and status `failed`) otherwise. */
  async start(): Promise<void> {
    if (this.statusValue !== 'stopped' && this.statusValue !== 'failed') {
      throw new DimseError('already-started', `${this.name} is ${this.statusValue}`);
    }
    silenceDimseLog();
    this.statusValue = 'starting';
    const plain = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    const tls = this.options.tls;
    try {
      this.bound = await this.listen(plain, this.options.port);
      this.servers.push(plain);
      if (tls) {
        const server = this.createTlsListener(tls);
        this.tlsBound = await this.listen(server, tls.port);
        this.tlsServer = server;
        this.servers.push(server);
      }
    } catch (err) {
      for (const server of this.servers.splice(0)) server.close();
      this.bound = undefined;
      this.statusValue = 'failed';
      throw err;
    }
    this.statusValue = 'running';
    this.emitLog('listening', { ...this.bound, tls: this.tlsBound, aeTitle: this.settings.aeTitle, maxPduLength: this.settings.maxPduLength });
  }

  private async listen(server: Server, port: number): Promise<{ host: string; port: number }> {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.options.host, port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      this.emitLog('listenFailed', { host: this.options.host, port, err });
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new DimseError('listen-failed', `cannot listen on ${this.options.host}:${port}: ${reason}`, [], { cause: err });
    }
    server.on('error', (err) => this.emitLog('serverError', { err }));
    const address = server.address();
    return typeof address === 'object' && address ? { host: address.address, port: address.port } : { host: this.options.host, port };
  }

  /**
   * Limen's TLS profile (`gateway/tls`). With a caller CA a certificate is asked for, and the
   * association refuses a caller whose certificate does not chain to it (see `ScpAssociation`);
   * the handshake itself refuses no certificate, so that the caller gets an A-ASSOCIATE-RJ.
   * A handshake gets the ARTIM timer's time, as an association request would.
   */
  private createTlsListener(tls: DimseTlsOptions): TlsServer {
    const server = createTlsServer(
      {
        ...listenerContext(tls),
        requestCert: tls.requestCertificate ?? tls.callerCa !== undefined,
        rejectUnauthorized: false,
        handshakeTimeout: this.settings.artimTimeoutMs,
        noDelay: true,
      },
      (socket: TLSSocket) => this.onConnection(socket),
    );
    // Until its handshake ends a connection is no association, so only this set can close it on stop.
    server.on('connection', (raw: Socket) => {
      this.tlsConnections.add(raw);
      raw.once('close', () => this.tlsConnections.delete(raw));
    });
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      // Node only reports a failed or timed-out handshake; the connection would stay open.
      socket.destroy();
      const dropped = err.code === 'ECONNRESET';
      this.emitLog(dropped ? 'tlsConnectionDropped' : 'tlsHandshakeFailed', { remoteAddress: socket.remoteAddress, code: err.code, reason: handshakeFailure(err) });
    });
    return server;
  }

  /**
   * Serves the TLS connections that arrive from now on with these credentials (a renewed
   * certificate, a caller CA's new revocation list); those already open keep theirs. Whether
   * callers are asked for a certificate stays as started, so a caller CA cannot be added or
   * removed this way. Throws `invalid-options`, the listener unchanged, when they cannot serve.
   */
  reloadTls(tls: DimseTlsCredentials): void {
    const server = this.tlsServer;
    if (!server || this.statusValue !== 'running') throw new DimseError('invalid-options', 'no DICOM TLS listener is running');
    if ((tls.callerCa !== undefined) !== this.settings.callerCertificateRequired) {
      throw new DimseError('invalid-options', 'tls.callerCa: a caller CA can be added or removed only by a restart', [{ path: 'tls.callerCa', message: 'cannot be added or removed while running' }]);
    }
    try {
      // Node swaps in the new context only once it is made: when that fails, the old one serves on.
      server.setSecureContext(listenerContext(tls));
    } catch (err) {
      throw new DimseError('invalid-options', `tls: the certificate, key or caller CA cannot be used: ${(err as Error).message}`, [], { cause: err });
    }
  }

  /**
   * Stops accepting connections and associations, lets each C-STORE in flight finish and be
   * answered, then aborts the remaining associations and closes. After `stopTimeoutMs`, or once
   * `signal` aborts (the process's stop deadline), what is left is aborted without waiting. Both
   * listeners are closed before it first yields, so a caller stopping several services at once
   * stops them all accepting first. A call while stopping joins the stop under way, under the first call's signal.
   */
  stop(signal?: AbortSignal): Promise<void> {
    if (this.statusValue === 'stopped' || this.statusValue === 'failed') return Promise.resolve();
    this.stopping ??= this.drainAndClose(signal).finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async drainAndClose(signal?: AbortSignal): Promise<void> {
    this.statusValue = 'stopping';
    this.emitLog('stopping', { associations: this.associations.size });
    const closed = Promise.all(this.servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    const associations = [...this.associations];
    const drained = Promise.all(associations.map(async (a) => {
      await a.shutdown();
      await a.settled();
    }));
    const timeoutMs = this.options.stopTimeoutMs ?? DIMSE_SCP_DEFAULTS.stopTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
        onAbort = () => resolve(true);
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    if (timedOut) {
      this.emitLog('stopTimedOut', { associations: this.associations.size });
      for (const a of this.associations) a.forceClose();
    }
    // The associations are closed by now; what is left of the TLS listener's is still in its handshake.
    for (const raw of this.tlsConnections) raw.destroy();
    await closed;
    this.bound = undefined;
    this.tlsBound = undefined;
    this.tlsServer = undefined;
    this.statusValue = 'stopped';
    this.emitLog('stopped');
  }

  private onConnection(socket: Socket): void {
    if (this.statusValue !== 'running') {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    let association: ScpAssociation;
    try {
      association = new ScpAssociation(socket, this.context);
    } catch (err) {
      this.emitLog('serverError', { err });
      socket.destroy();
      return;
    }
    this.associations.add(association);
    void association.settled().then(() => this.associations.delete(association));
  }

  private admit(): AssociationRejectReason | undefined {
    if (this.statusValue !== 'running') return 'stopping';
    const max = this.options.maxAssociations ?? DIMSE_SCP_DEFAULTS.maxAssociations;
    // Connections that have not asked for an association yet do not count (the ARTIM timer
    // closes them), so silent sockets cannot lock callers out; the count includes the one asking.
    let associations = 0;
    for (const a of this.associations) if (a.associating) associations++;
    if (associations > max) return 'too-many-associations';
    return undefined;
  }

  private report(event: DimseScpEvent): void {
    try {
      this.deps.onEvent?.(event);
    } catch (err) {
      this.emitLog('auditSinkFailed', { event: event.type, err });
    }
  }

  private emitLog(name: MessageName, fields: Record<string, unknown> = {}): void {
    const { level, record } = message(name, fields);
    this.log.log(level, record);
  }
}

function resolveSettings(options: DimseScpOptions): ScpSettings {
  const issues: DimseIssue[] = [];
  const aeIssue = aeTitleIssue('aeTitle', options.aeTitle);
  if (aeIssue) issues.push(aeIssue);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    issues.push({ path: 'port', message: 'must be an integer from 0 to 65535' });
  }
  if (!options.host) issues.push({ path: 'host', message: 'is required' });
  const positive = (path: keyof DimseScpOptions, value: number | undefined, min = 1): void => {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) issues.push({ path, message: `must be an integer >= ${min}` });
  };
  positive('maxPduLength', options.maxPduLength, MIN_PDU_LENGTH);
  positive('idleTimeoutMs', options.idleTimeoutMs);
  positive('artimTimeoutMs', options.artimTimeoutMs);
  positive('maxAssociations', options.maxAssociations);
  positive('maxDataSetBytes', options.maxDataSetBytes);
  positive('stopTimeoutMs', options.stopTimeoutMs, 0);
  if (options.tls) {
    const { port, certificate, privateKey, callerCa, callerCrl } = options.tls;
    if (!Number.isInteger(port) || port < 0 || port > 65535) issues.push({ path: 'tls.port', message: 'must be an integer from 0 to 65535' });
    else if (port !== 0 && port === options.port) issues.push({ path: 'tls.port', message: 'must differ from port' });
    // OpenSSL's own words ("key values mismatch", "no start line") say what is wrong with the PEM.
    try {
      createSecureContext(listenerContext({ certificate, privateKey, callerCa, callerCrl }));
    } catch (err) {
      issues.push({ path: 'tls', message: `the certificate, key or caller CA cannot be used: ${(err as Error).message}` });
    }
  }
  if (issues.length > 0) {
    throw new DimseError('invalid-options', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  }
  return {
    aeTitle: options.aeTitle.trim(),
    acceptedSopClassUIDs: new Set(options.acceptedSopClasses),
    acceptedTransferSyntaxUIDs: new Set(options.acceptedTransferSyntaxes ?? DEFAULT_ACCEPTED_TRANSFER_SYNTAXES),
    maxPduLength: Math.min(options.maxPduLength ?? DIMSE_SCP_DEFAULTS.maxPduLength, LIBRARY_MAX_PDU_LENGTH),
    idleTimeoutMs: options.idleTimeoutMs ?? DIMSE_SCP_DEFAULTS.idleTimeoutMs,
    artimTimeoutMs: options.artimTimeoutMs ?? DIMSE_SCP_DEFAULTS.artimTimeoutMs,
    maxDataSetBytes: options.maxDataSetBytes ?? DIMSE_SCP_DEFAULTS.maxDataSetBytes,
    callerCertificateRequired: options.tls?.callerCa !== undefined,
  };
}

/** OpenSSL's reason without its source location, and what the commonest one means for DICOM. */
function handshakeFailure(err: NodeJS.ErrnoException): string {
  if (err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || err.code === 'ERR_SSL_HTTP_REQUEST') {
    return 'the caller did not start a TLS handshake (plain DICOM sent to the TLS port?)';
  }
  return /routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message;
}

/** Each local failure's `reason` in `limen_instances_failed_total`: a new one must be given one here. */
const INSTANCE_FAILURE_REASON: Record<LocalFailureReason, RefusalReason> = {
  tooLarge: 'too-large',
  noMemory: 'no-memory',
  noDataSet: 'no-data-set',
  noAffectedSopClass: 'no-affected-sop-class',
  noAffectedSopInstance: 'no-affected-sop-instance',
  sopClassNotOnContext: 'sop-class-not-on-context',
  ingestThrew: 'ingest-error',
};

/**
 * Counts a C-STORE answered without the edge's verdict in `limen_dimse_stores_refused_total`,
 * and in the instances received and failed, which the edge counts only for what it answers: an
 * alert on failed instances must see a modality whose data sets are too large as much as a bad one.
 */
function countLocalFailures(registry: MetricsRegistry): (reason: LocalFailureReason) => void {
  const refused = registry.counter({
    name: 'limen_dimse_stores_refused_total',
    help: 'C-STOREs answered with a failure before reaching the edge (too large, no memory, a malformed request...), by reason.',
    labelNames: ['reason'],
  });
  // Zero series for every reason, so alerts and rate() have a series before the first refusal.
  for (const reason of Object.keys(LocalFailure)) refused.inc({ reason: kebab(reason) }, 0);
  const refusedInstance = countRefusedInstances(registry);
  return (reason) => {
    refused.inc({ reason: kebab(reason) });
    refusedInstance(INSTANCE_FAILURE_REASON[reason]);
  };
}

/** `noMemory` → `no-memory`, as metric labels are written. */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
