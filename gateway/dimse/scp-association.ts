/**
 * One accepted TCP connection and the association on it. dcmjs-dimse parses the PDUs and
 * DIMSE messages; this class decides everything else: who may associate, which
 * presentation contexts are accepted, what a C-STORE is answered, and when the
 * association ends. It never throws into the library and never leaves a promise rejected.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { InstanceIngest } from '../ingest/types.js';
import type { Logger } from '../log/index.js';
import {
  CEchoResponse,
  CStoreResponse,
  Scp,
  type Association,
  type CEchoRequest,
  type CStoreRequest,
  type Dataset,
  type PresentationContext,
} from './dcmjs-dimse.js';
import { message, type MessageName } from './messages.js';
import { negotiatePresentationContexts, PresentationContextResult } from './negotiation.js';
import { abortPdu, AbortReason, AbortSource } from './pdu.js';
import { PduGuard } from './pdu-guard.js';
import { DataSetCollector, ReceivedDataSet } from './received-data-set.js';
import { rejectFields, type AssociationRejectReason } from './rejection.js';
import { answerForOutcome, CStoreStatus, LocalFailure, type StoreAnswer } from './status.js';
import type { AbortCause, AssociateHook, AssociationFacts, DimseScpEvent } from './types.js';

/** Resolved settings an association works with. */
export interface ScpSettings {
  aeTitle: string;
  acceptedSopClassUIDs: ReadonlySet<string>;
  acceptedTransferSyntaxUIDs: ReadonlySet<string>;
  /** The Maximum Length announced in the A-ASSOCIATE-AC. */
  maxPduLength: number;
  idleTimeoutMs: number;
  maxDataSetBytes: number;
}

/** What the service gives each association. */
export interface AssociationContext {
  settings: ScpSettings;
  ingest: InstanceIngest;
  associate: AssociateHook;
  logger: Logger;
  /** Undefined when a new association may proceed, else why not. */
  admit(): AssociationRejectReason | undefined;
  report(event: DimseScpEvent): void;
}

type Phase = 'awaiting-associate' | 'negotiating' | 'established' | 'releasing' | 'released' | 'rejected' | 'aborted';

/** A-ASSOCIATE-RQ larger than this is refused; 128 contexts with many syntaxes fit easily. */
const MAX_ASSOCIATE_RQ_LENGTH = 1 << 20;
/** After the last PDU Limen sends, how long the peer has to close the connection itself. */
const CLOSE_LINGER_MS = 2_000;
/** dcmjs-dimse's own timers are replaced by the idle timer below, which knows about in-flight stores. */
const LIBRARY_TIMEOUT_DISABLED = 2 ** 31 - 1;

export class ScpAssociation extends Scp {
  readonly associationId = randomUUID();
  private readonly transport: Socket;
  private readonly ctx: AssociationContext;
  private readonly log: Logger;
  private readonly remoteAddress: string;
  private readonly guard: PduGuard;
  private readonly libraryDataListeners: Array<(...args: unknown[]) => void>;
  private phase: Phase = 'awaiting-associate';
  private callingAETitle?: string;
  private calledAETitle?: string;
  private route = '';
  private stored = 0;
  private failed = 0;
  /** A C-STORE data set is arriving. */
  private receiving = false;
  private readonly inFlight = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private connectionLost = false;
  private socketClosed = false;
  private readonly closedWaiters: Array<() => void> = [];
  private readonly idleTimer: NodeJS.Timeout;
  private lingerTimer?: NodeJS.Timeout;

  constructor(socket: Socket, ctx: AssociationContext) {
    super(socket, {
      connectTimeout: LIBRARY_TIMEOUT_DISABLED,
      associationTimeout: LIBRARY_TIMEOUT_DISABLED,
      pduTimeout: LIBRARY_TIMEOUT_DISABLED,
    });
    socket.setTimeout(0);
    socket.setNoDelay(true);
    this.transport = socket;
    this.ctx = ctx;
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    this.log = ctx.logger.child({ associationId: this.associationId, remoteAddress: this.remoteAddress });
    this.guard = new PduGuard({ maxAssociateRequestLength: MAX_ASSOCIATE_RQ_LENGTH, maxPDataLength: ctx.settings.maxPduLength });
    // Kept so they can be detached once the association is over: a peer flooding a dead
    // connection must not keep dcmjs-dimse buffering.
    this.libraryDataListeners = socket.listeners('data') as Array<(...args: unknown[]) => void>;
    // The guard sees every chunk before dcmjs-dimse does.
    socket.prependListener('data', (chunk: Buffer) => this.onData(chunk));
    socket.prependListener('error', () => {
      this.connectionLost = true;
    });
    socket.on('close', () => this.onSocketClosed());
    this.on('networkError', (err: unknown) => this.onNetworkError(err));
    this.idleTimer = setTimeout(() => this.onIdle(), ctx.settings.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** Resolves once the connection is closed and every C-STORE it started has finished. */
  async settled(): Promise<void> {
    if (!this.socketClosed) await new Promise<void>((resolve) => this.closedWaiters.push(resolve));
    await this.whenIdle();
  }

  /**
   * For a graceful stop: lets the C-STORE being received or stored finish and be answered,
   * then aborts the association (a requestor retries what it did not get a status for).
   */
  async shutdown(): Promise<void> {
    if (this.phase === 'awaiting-associate') {
      this.guard.close();
      this.closeTransport();
      return;
    }
    await this.whenIdle();
    this.abortLocally('stopping', AbortSource.ServiceUser, AbortReason.NotSpecified);
  }

  /** Ends the association now, whatever is in progress. */
  forceClose(): void {
    this.abortLocally('stopping', AbortSource.ServiceUser, AbortReason.NotSpecified);
    this.transport.destroy();
  }

  // ---- dcmjs-dimse hooks -------------------------------------------------------------

  override associationRequested(association: Association): void {
    if (this.phase !== 'awaiting-associate') return;
    this.phase = 'negotiating';
    this.callingAETitle = association.getCallingAeTitle()?.trim() ?? '';
    this.calledAETitle = association.getCalledAeTitle()?.trim() ?? '';
    void this.negotiate(association);
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponse) => void): void {
    if (this.phase !== 'established') return;
    const response = CEchoResponse.fromRequest(request);
    response.setStatus(CStoreStatus.Success);
    this.respond(() => callback(response));
  }

  override createStoreWritableStream(_context: PresentationContext, _request: CStoreRequest): Writable {
    this.receiving = true;
    return new DataSetCollector(this.ctx.settings.maxDataSetBytes);
  }

  override createDatasetFromStoreWritableStream(
    writable: Writable,
    context: PresentationContext,
    callback: (dataset: Dataset) => void,
  ): void {
    this.receiving = false;
    const collector = writable as DataSetCollector;
    const complete = !collector.overflowed;
    callback(
      new ReceivedDataSet(complete ? collector.bytes() : Buffer.alloc(0), context.getAcceptedTransferSyntaxUid() ?? '', complete, {
        accepted: context.getResult() === PresentationContextResult.Acceptance,
        abstractSyntaxUID: context.getAbstractSyntaxUid(),
      }),
    );
    // The callback ran cStoreRequest synchronously: the store is in flight by now.
    this.checkIdle();
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
    const done = this.store(request, callback);
    this.inFlight.add(done);
    void done.finally(() => {
      this.inFlight.delete(done);
      this.checkIdle();
    });
  }

  override associationReleaseRequested(): void {
    if (this.phase !== 'established') return;
    this.phase = 'releasing';
    // A well-behaved requestor waits for every response first; answer in order anyway.
    void this.whenIdle().then(() => {
      if (this.phase !== 'releasing') return;
      this.phase = 'released';
      this.guard.close();
      try {
        this.sendAssociationReleaseResponse();
      } finally {
        this.emitLog('released', { stored: this.stored, failed: this.failed });
        this.ctx.report({ type: 'association-released', ...this.facts(), stored: this.stored, failed: this.failed });
        this.closeTransport();
      }
    });
  }

  /** A-ABORT from the peer. */
  override abort(_source: number, _reason: number): void {
    if (this.isOver()) return;
    this.phase = 'aborted';
    this.guard.close();
    this.reportAbort('peer', 'peer-abort');
    this.detachLibrary();
    this.transport.destroy();
  }

  // ---- negotiation -------------------------------------------------------------------

  private async negotiate(association: Association): Promise<void> {
    try {
      const refusal = this.ctx.admit();
      if (refusal) return this.reject(refusal);
      if (this.calledAETitle !== this.ctx.settings.aeTitle) return this.reject('called-ae-not-recognized');
      let decision;
      try {
        decision = await this.ctx.associate({
          callingAETitle: this.callingAETitle ?? '',
          calledAETitle: this.calledAETitle,
          remoteAddress: this.remoteAddress,
        });
      } catch (err) {
        this.emitLog('associateHookFailed', { err });
        return this.reject('internal-error');
      }
      if (this.phase !== 'negotiating') return;
      if (!decision.accept) return this.reject(decision.reason);
      this.route = decision.route;
      this.accept(association);
    } catch (err) {
      this.emitLog('protocolError', { err });
      this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.NotSpecified);
    }
  }

  private accept(association: Association): void {
    const proposed = association.getPresentationContexts().map(({ context }) => ({
      id: context.getPresentationContextId(),
      abstractSyntaxUID: context.getAbstractSyntaxUid(),
      transferSyntaxUIDs: [...context.getTransferSyntaxUids()],
    }));
    const negotiated = negotiatePresentationContexts(proposed, {
      acceptedSopClassUIDs: this.ctx.settings.acceptedSopClassUIDs,
      acceptedTransferSyntaxUIDs: this.ctx.settings.acceptedTransferSyntaxUIDs,
    });
    for (const answer of negotiated) {
      const context = association.getPresentationContext(answer.id);
      context.setResult(answer.result, answer.transferSyntaxUID);
      // SCP/SCU role selection: Limen is only ever the SCP of what it accepts.
      if (context.getProviderRole() !== undefined) context.setProviderRole(false);
    }
    // Operations stay synchronous: one C-STORE at a time per association.
    association.setNegotiateAsyncOps(false);
    association.setMaxAsyncOpsInvoked(1);
    association.setMaxAsyncOpsPerformed(1);
    // dcmjs-dimse announces min(this, its own 262144) and also sends with it; Limen only
    // sends short command responses, far below any peer's limit.
    association.setMaxPduLength(this.ctx.settings.maxPduLength);
    this.sendAssociationAccept();
    this.guard.established();
    this.phase = 'established';
    const accepted = negotiated.filter((c) => c.result === PresentationContextResult.Acceptance).length;
    this.emitLog('accepted', { ...this.facts(), route: this.route, contexts: negotiated.length, acceptedContexts: accepted });
    this.ctx.report({ type: 'association-accepted', ...this.facts(), route: this.route });
  }

  private reject(reason: AssociationRejectReason): void {
    if (this.phase !== 'negotiating') return;
    this.phase = 'rejected';
    this.guard.close();
    const { result, source, reason: code } = rejectFields(reason);
    try {
      this.sendAssociationReject(result, source, code);
    } finally {
      this.emitLog('rejected', { ...this.facts(), reason, result, source, code });
      this.ctx.report({ type: 'association-rejected', ...this.facts(), reason });
      this.closeTransport();
    }
  }

  // ---- C-STORE -------------------------------------------------------------------------

  private async store(request: CStoreRequest, callback: (response: CStoreResponse) => void): Promise<void> {
    try {
      const dataSet = request.getDataset();
      if (dataSet instanceof ReceivedDataSet && !dataSet.presentationContext.accepted) {
        // Data on a context that was not accepted is a protocol violation (PS3.8 §9.3.5).
        this.emitLog('protocolError', { code: 'data-on-rejected-context' });
        this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.UnexpectedPduParameter);
        return;
      }
      const answer = await this.answerFor(request, dataSet);
      if (answer.status === CStoreStatus.Success) this.stored++;
      else {
        this.failed++;
        this.emitLog('storeFailed', { status: hex(answer.status), errorComment: answer.errorComment });
      }
      if (this.phase !== 'established' && this.phase !== 'releasing') return;
      const response = CStoreResponse.fromRequest(request);
      response.setStatus(answer.status);
      if (answer.errorComment) response.setErrorComment(answer.errorComment);
      this.respond(() => callback(response));
    } catch (err) {
      this.emitLog('responseFailed', { err });
      this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.NotSpecified);
    }
  }

  private async answerFor(request: CStoreRequest, dataSet: Dataset | undefined): Promise<StoreAnswer> {
    if (!(dataSet instanceof ReceivedDataSet)) return LocalFailure.noDataSet;
    if (!dataSet.complete) return LocalFailure.tooLarge;
    const announcedSOPClassUID = request.getAffectedSopClassUid();
    if (announcedSOPClassUID !== dataSet.presentationContext.abstractSyntaxUID) return LocalFailure.sopClassNotOnContext;
    try {
      const outcome = await this.ctx.ingest.ingest({
        format: 'dataset',
        bytes: dataSet.bytes,
        transferSyntaxUID: dataSet.getTransferSyntaxUid(),
        announcedSOPClassUID,
        announcedSOPInstanceUID: request.getAffectedSopInstanceUid(),
        route: this.route,
        source: { kind: 'dimse', callingAETitle: this.callingAETitle, remoteAddress: this.remoteAddress },
      });
      return answerForOutcome(outcome);
    } catch (err) {
      this.emitLog('ingestThrew', { err });
      return LocalFailure.ingestThrew;
    }
  }

  private respond(send: () => void): void {
    try {
      send();
      this.idleTimer.refresh();
    } catch (err) {
      this.emitLog('responseFailed', { err });
      this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.NotSpecified);
    }
  }

  // ---- transport -----------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.idleTimer.refresh();
    if (this.isOver()) return;
    const violation = this.guard.feed(chunk);
    if (!violation) return;
    this.emitLog('protocolError', { code: violation.code, pduType: violation.pduType, pduLength: violation.length });
    this.abortLocally('protocol-error', AbortSource.ServiceProvider, violation.abortReason);
  }

  private onNetworkError(err: unknown): void {
    // A socket error is followed by 'close', which reports it.
    if (this.isOver() || this.connectionLost) return;
    this.emitLog('protocolError', { err });
    this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.NotSpecified);
  }

  private onIdle(): void {
    if (this.socketClosed) return;
    if (this.inFlight.size > 0) {
      this.idleTimer.refresh();
      return;
    }
    if (this.isOver()) {
      this.transport.destroy();
      return;
    }
    this.abortLocally('idle-timeout', AbortSource.ServiceUser, AbortReason.NotSpecified);
  }

  private onSocketClosed(): void {
    this.socketClosed = true;
    clearTimeout(this.idleTimer);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.receiving = false;
    if (!this.isOver() && this.phase !== 'awaiting-associate') {
      this.phase = 'aborted';
      this.reportAbort('peer', 'connection-lost');
    }
    this.guard.close();
    for (const resolve of this.closedWaiters.splice(0)) resolve();
    this.checkIdle();
  }

  private abortLocally(cause: AbortCause, source: number, reason: number): void {
    if (this.isOver()) return;
    const hadAssociation = this.phase !== 'awaiting-associate';
    this.phase = 'aborted';
    this.guard.close();
    if (hadAssociation || cause === 'protocol-error') this.reportAbort('local', cause);
    this.closeTransport(abortPdu(source, reason));
  }

  /** Sends a last PDU (if any), half-closes, and destroys the socket if the peer lingers. */
  private closeTransport(lastPdu?: Buffer): void {
    this.detachLibrary();
    clearTimeout(this.idleTimer);
    if (this.socketClosed || this.transport.destroyed) return;
    if (lastPdu) this.transport.end(lastPdu);
    else this.transport.end();
    this.lingerTimer = setTimeout(() => this.transport.destroy(), CLOSE_LINGER_MS);
    this.lingerTimer.unref();
  }

  private detachLibrary(): void {
    for (const listener of this.libraryDataListeners) this.transport.removeListener('data', listener);
  }

  // ---- bookkeeping ---------------------------------------------------------------------

  private isOver(): boolean {
    return this.phase === 'released' || this.phase === 'rejected' || this.phase === 'aborted';
  }

  private whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.inFlight.size === 0 && !this.receiving;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private facts(): AssociationFacts {
    return {
      associationId: this.associationId,
      callingAETitle: this.callingAETitle,
      calledAETitle: this.calledAETitle,
      remoteAddress: this.remoteAddress,
    };
  }

  private reportAbort(initiator: 'peer' | 'local', reason: AbortCause): void {
    this.emitLog('aborted', { ...this.facts(), initiator, reason, stored: this.stored, failed: this.failed });
    this.ctx.report({ type: 'association-aborted', ...this.facts(), initiator, reason, stored: this.stored, failed: this.failed });
  }

  private emitLog(name: MessageName, fields: Record<string, unknown> = {}): void {
    const { level, record } = message(name, fields);
    this.log.log(level, record);
  }
}

function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function hex(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}
