/**
 * One accepted TCP connection and the association on it. dcmjs-dimse reads the association
 * request and writes the accept, reject and release PDUs; this class reads P-DATA itself (the
 * C-STORE and C-ECHO requests and their data sets, byte for byte) and decides everything else:
 * who may associate, which presentation contexts are accepted, what a C-STORE is answered, and
 * when the association ends. It never throws into the library and never leaves a promise rejected.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { InstanceIngest } from '../ingest/types.js';
import type { ReceiveMemory } from '../ingest/receive-memory.js';
import type { Logger } from '../log/index.js';
import { CommandField, CommandSetError, encodeResponse, parseRequest, STATUS_UNRECOGNIZED_OPERATION, type DimseRequest, type DimseResponse } from './command-set.js';
import { Scp, type Association } from './dcmjs-dimse.js';
import { message, type MessageName } from './messages.js';
import { negotiatePresentationContexts, PresentationContextResult } from './negotiation.js';
import { commandPdus, PDataError, PduFramer, readPdvs, type Pdu, type Pdv } from './pdata.js';
import { abortPdu, AbortReason, AbortSource, PduType } from './pdu.js';
import { PduGuard } from './pdu-guard.js';
import { DataSetCollector, Fragments } from './data-set-collector.js';
import { checkAssociateRq, type AssociateRqRefusal } from './associate-rq.js';
import { rejectFields, type AssociationRejectReason } from './rejection.js';
import { VERIFICATION_SOP_CLASS } from './uids.js';
import { answerForOutcome, CStoreStatus, LocalFailure, localFailureReason, type LocalFailureReason, type StoreAnswer } from './status.js';
import type { AbortCause, AssociateHook, AssociationFacts, DimseScpEvent, DimseTransport } from './types.js';

/** Resolved settings an association works with. */
export interface ScpSettings {
  aeTitle: string;
  acceptedSopClassUIDs: ReadonlySet<string>;
  acceptedTransferSyntaxUIDs: ReadonlySet<string>;
  /** The Maximum Length announced in the A-ASSOCIATE-AC. */
  maxPduLength: number;
  idleTimeoutMs: number;
  artimTimeoutMs: number;
  maxDataSetBytes: number;
  /** Over TLS, callers must present a certificate that chains to the caller CA. */
  callerCertificateRequired: boolean;
}

/** What the service gives each association. */
export interface AssociationContext {
  settings: ScpSettings;
  ingest: InstanceIngest;
  /** Shared with the other receivers; absent, only `maxDataSetBytes` bounds a data set. */
  memory?: ReceiveMemory;
  associate: AssociateHook;
  logger: Logger;
  /** Counts a C-STORE answered without the ingest (too large, no memory, a malformed request...). */
  refused?(reason: LocalFailureReason): void;
  /** Undefined when a new association may proceed, else why not. */
  admit(): AssociationRejectReason | undefined;
  report(event: DimseScpEvent): void;
}

type Phase = 'awaiting-associate' | 'negotiating' | 'established' | 'releasing' | 'released' | 'rejected' | 'aborted';

/** A presentation context as negotiated. */
interface NegotiatedContext {
  id: number;
  accepted: boolean;
  abstractSyntaxUID: string;
  transferSyntaxUID: string;
}

/** What is left of a P-DATA-TF once a C-STORE started in its middle: its later PDVs, and their bytes. */
class HeldPdvs {
  constructor(
    readonly pdvs: readonly Pdv[],
    readonly length: number,
  ) {}
}

/** A request whose data set is arriving. */
interface PendingRequest {
  request: DimseRequest;
  context: NegotiatedContext;
  dataSet: DataSetCollector;
}

/** A-ASSOCIATE-RQ larger than this is refused; 128 contexts with many syntaxes fit easily. */
const MAX_ASSOCIATE_RQ_LENGTH = 1 << 20;
/** A command set is a few hundred bytes; anything near this is not one. */
const MAX_COMMAND_SET_BYTES = 64 * 1024;
/*
 * One operation at a time. Limen negotiates no Asynchronous Operations Window, so a requestor may
 * have one operation outstanding (PS3.7 D.3.3.3). While a C-STORE is being stored the socket is
 * paused, and the PDUs that came in the same reads after its data set are held, unprocessed, until
 * it is answered; they are then performed in the order they came. A P-DATA-TF may carry PDVs of
 * several messages (PS3.8 9.3.5, Annex E): the PDVs after the data set that started a C-STORE are
 * held the same way, ahead of the PDUs that followed theirs. What is held counts against what
 * the association may hold (`maxDataSetBytes`, with the data set being stored): a requestor that
 * sends more than that ahead of its answer gets the C-STORE in hand answered, then an A-ABORT.
 * Nor is anything read while the requestor leaves Limen's answers unread (the socket's write
 * buffer is full): a peer that streams C-ECHOs without reading the responses would otherwise
 * have them pile up in memory without bound.
 */
/** After the last PDU Limen sends, how long the peer has to close the connection itself. */
const CLOSE_LINGER_MS = 2_000;
/** dcmjs-dimse's own timers are replaced by the idle timer below, which knows about in-flight stores. */
const LIBRARY_TIMEOUT_DISABLED = 2 ** 31 - 1;

export class ScpAssociation extends Scp {
  readonly associationId = randomUUID();
  private readonly connection: Socket;
  private readonly ctx: AssociationContext;
  private readonly log: Logger;
  private readonly remoteAddress: string;
  private readonly transport: DimseTransport;
  private readonly peerCertificateSha256: string | undefined;
  private readonly certificateError: string | undefined;
  private readonly guard: PduGuard;
  private readonly framer = new PduFramer();
  private readonly libraryDataListeners: Array<(...args: unknown[]) => void>;
  private libraryAttached = true;
  private readonly contexts = new Map<number, NegotiatedContext>();
  /** The peer's Maximum Length (of a P-DATA-TF variable field); 0: no limit. */
  private peerMaxPduLength = 0;
  /** Fragments of the command being received, and its context. */
  private readonly commandFragments = new Fragments();
  private commandContextID: number | undefined;
  private pending: PendingRequest | undefined;
  /** PDUs (and PDVs) that came while a C-STORE was being stored, in order, and their bytes. */
  private held: Array<Pdu | HeldPdvs> = [];
  private heldBytes = 0;
  /** Bytes the data set being stored holds. */
  private storingBytes = 0;
  /** The requestor sent more ahead of an answer than the association holds: abort once it is sent. */
  private windowExceeded = false;
  private phase: Phase = 'awaiting-associate';
  /** What the A-ASSOCIATE-RQ's own bytes are refused for, before anything else is asked. */
  private requestRefusal: AssociateRqRefusal | undefined;
  private callingAETitle?: string;
  private calledAETitle?: string;
  private route = '';
  private stored = 0;
  private failed = 0;
  /** A C-STORE data set is arriving. */
  private receiving = false;
  /** The peer has not read what was written: nothing more is read until the socket drains. */
  private awaitingDrain = false;
  private readonly inFlight = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private connectionLost = false;
  private socketClosed = false;
  private readonly closedWaiters: Array<() => void> = [];
  private readonly idleTimer: NodeJS.Timeout;
  private readonly artimTimer: NodeJS.Timeout;
  private lingerTimer?: NodeJS.Timeout;

  constructor(socket: Socket, ctx: AssociationContext) {
    super(socket, {
      connectTimeout: LIBRARY_TIMEOUT_DISABLED,
      associationTimeout: LIBRARY_TIMEOUT_DISABLED,
      pduTimeout: LIBRARY_TIMEOUT_DISABLED,
    });
    socket.setTimeout(0);
    socket.setNoDelay(true);
    this.connection = socket;
    this.ctx = ctx;
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    this.transport = socket instanceof TLSSocket ? 'tls' : 'tcp';
    if (socket instanceof TLSSocket) {
      this.peerCertificateSha256 = certificateFingerprint(socket);
      // The handshake lets an untrusted certificate through so that the caller gets an A-ASSOCIATE-RJ
      // and the audit trail a rejection, instead of a connection that dies without a word.
      if (ctx.settings.callerCertificateRequired && !socket.authorized) {
        this.certificateError = this.peerCertificateSha256 === undefined ? 'NO_CERTIFICATE_PRESENTED' : String(socket.authorizationError);
      }
    }
    this.log = ctx.logger.child({ associationId: this.associationId, remoteAddress: this.remoteAddress });
    this.guard = new PduGuard({ maxAssociateRequestLength: MAX_ASSOCIATE_RQ_LENGTH, maxPDataLength: ctx.settings.maxPduLength });
    // dcmjs-dimse gets only whole PDUs other than P-DATA, from onData, and none once the
    // association is over: a peer flooding a dead connection must not keep it buffering.
    this.libraryDataListeners = socket.listeners('data') as Array<(...args: unknown[]) => void>;
    for (const listener of this.libraryDataListeners) socket.removeListener('data', listener);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.prependListener('error', () => {
      this.connectionLost = true;
    });
    socket.on('close', () => this.onSocketClosed());
    this.on('networkError', (err: unknown) => this.onNetworkError(err));
    this.idleTimer = setTimeout(() => this.onIdle(), ctx.settings.idleTimeoutMs);
    this.idleTimer.unref();
    this.artimTimer = setTimeout(() => this.onArtimExpired(), ctx.settings.artimTimeoutMs);
    this.artimTimer.unref();
  }

  /** True once an A-ASSOCIATE-RQ arrived: only then does the connection count as an association. */
  get associating(): boolean {
    return this.phase !== 'awaiting-associate';
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
    this.connection.destroy();
  }

  // ---- dcmjs-dimse hooks -------------------------------------------------------------

  override associationRequested(association: Association): void {
    if (this.phase !== 'awaiting-associate') return;
    this.phase = 'negotiating';
    clearTimeout(this.artimTimer);
    this.callingAETitle = association.getCallingAeTitle()?.trim() ?? '';
    this.calledAETitle = association.getCalledAeTitle()?.trim() ?? '';
    void this.negotiate(association);
  }

  override associationReleaseRequested(): void {
    if (this.phase !== 'established') return;
    if (this.receiving) {
      // Nothing but the answer may follow an A-RELEASE-RQ (PS3.8 9.2, Sta7): the data set still
      // arriving can never end, so its C-STORE can never be answered. Said now, not at the idle timeout.
      this.emitLog('protocolError', { code: 'release-during-data-set' });
      return this.abortLocally('protocol-error', AbortSource.ServiceUser, AbortReason.NotSpecified);
    }
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
    // Before an A-ASSOCIATE-RQ there is no association to report: the transport just closes (PS3.8 9.2, Sta2, AA-2).
    const hadAssociation = this.phase !== 'awaiting-associate';
    this.phase = 'aborted';
    this.guard.close();
    if (hadAssociation) this.reportAbort('peer', 'peer-abort');
    this.detachLibrary();
    this.connection.destroy();
  }

  // ---- negotiation -------------------------------------------------------------------

  private async negotiate(association: Association): Promise<void> {
    try {
      if (this.requestRefusal) return this.reject(this.requestRefusal);
      if (this.certificateError !== undefined) return this.reject('certificate-not-trusted');
      const refusal = this.ctx.admit();
      if (refusal) return this.reject(refusal);
      if (this.calledAETitle !== this.ctx.settings.aeTitle) return this.reject('called-ae-not-recognized');
      let decision;
      try {
        decision = await this.ctx.associate({
          callingAETitle: this.callingAETitle ?? '',
          calledAETitle: this.calledAETitle,
          remoteAddress: this.remoteAddress,
          transport: this.transport,
          ...(this.peerCertificateSha256 !== undefined && { peerCertificateSha256: this.peerCertificateSha256 }),
        });
      } catch (err) {
        this.emitLog('associateHookFailed', { err });
        return this.reject('internal-error');
      }
      if (this.phase !== 'negotiating') return;
      if (!decision.accept) return this.reject(decision.reason);
      this.route = decision.route;
      this.accept(association, decision.acceptedSopClasses);
    } catch (err) {
      this.emitLog('protocolError', { err });
      this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.NotSpecified);
    }
  }

  private accept(association: Association, routeSopClasses?: readonly string[]): void {
    const held = association.getPresentationContexts();
    // A role selection names an abstract syntax, not a context: the library records it on the first
    // context of that syntax only, and it holds for all of them (PS3.7 D.3.3.4).
    let roles: Map<string, { scu: boolean; scp: boolean }> | undefined;
    for (const { context } of held) {
      if (context.getUserRole() === undefined && context.getProviderRole() === undefined) continue;
      (roles ??= new Map()).set(context.getAbstractSyntaxUid(), { scu: context.getUserRole() === true, scp: context.getProviderRole() === true });
    }
    const proposed = held.map(({ context }) => ({
      id: context.getPresentationContextId(),
      abstractSyntaxUID: context.getAbstractSyntaxUid(),
      transferSyntaxUIDs: [...context.getTransferSyntaxUids()],
      requestorRoles: roles?.get(context.getAbstractSyntaxUid()),
    }));
    const service = this.ctx.settings.acceptedSopClassUIDs;
    const negotiated = negotiatePresentationContexts(proposed, {
      acceptedSopClassUIDs: routeSopClasses ? new Set(routeSopClasses.filter((uid) => service.has(uid))) : service,
      acceptedTransferSyntaxUIDs: this.ctx.settings.acceptedTransferSyntaxUIDs,
    });
    this.peerMaxPduLength = association.getMaxPduLength() ?? 0;
    for (const answer of negotiated) {
      const context = association.getPresentationContext(answer.id);
      context.setResult(answer.result, answer.transferSyntaxUID);
      this.contexts.set(answer.id, {
        id: answer.id,
        accepted: answer.result === PresentationContextResult.Acceptance,
        abstractSyntaxUID: context.getAbstractSyntaxUid(),
        transferSyntaxUID: answer.transferSyntaxUID ?? '',
      });
      // SCP/SCU role selection (PS3.7 D.3.3.4, Table D.3-10): the reply keeps the requestor's SCU
      // role (1 only if proposed) and turns down its SCP role, for Limen is only ever the SCP. A
      // context whose requestor proposed no SCU role was rejected above (Table D.3-11).
      if (context.getProviderRole() !== undefined) context.setProviderRole(false);
    }
    // Operations stay synchronous: one C-STORE at a time per association.
    association.setNegotiateAsyncOps(false);
    association.setMaxAsyncOpsInvoked(1);
    association.setMaxAsyncOpsPerformed(1);
    // dcmjs-dimse announces min(this, its own 262144). Responses go out fragmented to the
    // peer's own maximum, read above before this overwrites it.
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

  // ---- P-DATA: requests and data sets ---------------------------------------------------

  private onPData(pdu: Pdu): void {
    let pdvs: Pdv[];
    try {
      pdvs = readPdvs(pdu);
    } catch (err) {
      return this.protocolError(err instanceof PDataError ? 'malformed-pdv' : 'pdv-unreadable', AbortReason.InvalidPduParameterValue);
    }
    this.performPdvs(pdvs);
  }

  /**
   * Performs PDVs in order. Once one of them starts a C-STORE, the rest wait for its answer, first
   * in line: another request in the same PDU is not read before the one in hand is answered.
   */
  private performPdvs(pdvs: readonly Pdv[]): void {
    for (let i = 0; i < pdvs.length; i++) {
      if (this.isOver()) return;
      if (this.inFlight.size > 0) return this.holdPdvs(pdvs.slice(i));
      const pdv = pdvs[i];
      const context = this.contexts.get(pdv.presentationContextID);
      if (!context) return this.protocolError('unknown-presentation-context', AbortReason.UnexpectedPduParameter);
      // Data on a context that was not accepted is a protocol violation (PS3.8 §9.3.5).
      if (!context.accepted) return this.protocolError('data-on-rejected-context', AbortReason.UnexpectedPduParameter);
      if (pdv.command) this.onCommandFragment(pdv, context);
      else this.onDataSetFragment(pdv, context);
    }
  }

  private onCommandFragment(pdv: Pdv, context: NegotiatedContext): void {
    if (this.pending || (this.commandContextID !== undefined && this.commandContextID !== context.id)) {
      return this.protocolError('command-out-of-sequence', AbortReason.UnexpectedPduParameter);
    }
    this.commandContextID = context.id;
    // Counted as they come: summed again per fragment, a command sent in one-byte PDVs took the event loop for seconds.
    for (const fragment of pdv.value) this.commandFragments.add(fragment);
    if (this.commandFragments.length > MAX_COMMAND_SET_BYTES) return this.protocolError('command-too-large', AbortReason.InvalidPduParameterValue);
    if (!pdv.last) return;
    const bytes = this.commandFragments.bytes();
    this.commandFragments.clear();
    this.commandContextID = undefined;
    let request: DimseRequest;
    try {
      request = parseRequest(bytes);
    } catch (err) {
      if (!(err instanceof CommandSetError)) throw err;
      this.emitLog('protocolError', { code: 'command-unreadable', reason: err.message });
      return this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue);
    }
    if (request.commandField & CommandField.ResponseBit) return this.protocolError('unexpected-response', AbortReason.UnexpectedPduParameter);
    if (request.commandField === CommandField.CCancelRQ) return; // nothing of Limen's can be cancelled
    if (request.hasDataSet) {
      this.pending = { request, context, dataSet: new DataSetCollector(this.ctx.settings.maxDataSetBytes, this.ctx.memory) };
      this.receiving = true;
      return;
    }
    // C-ECHO-RSP's Affected SOP Class UID is mandatory (PS3.7 Table 9.3-13), even to a request that left it out.
    if (request.commandField === CommandField.CEchoRQ) this.answer(context.id, { ...request, affectedSOPClassUID: request.affectedSOPClassUID ?? context.abstractSyntaxUID }, { status: echoStatus(request, context) });
    else if (request.commandField === CommandField.CStoreRQ) this.count(context, request, LocalFailure.noDataSet);
    else this.answer(context.id, request, { status: STATUS_UNRECOGNIZED_OPERATION });
  }

  private onDataSetFragment(pdv: Pdv, context: NegotiatedContext): void {
    const pending = this.pending;
    if (!pending || pending.context.id !== context.id) return this.protocolError('data-set-without-command', AbortReason.UnexpectedPduParameter);
    for (const fragment of pdv.value) pending.dataSet.add(fragment);
    if (!pdv.last) return;
    this.pending = undefined;
    this.receiving = false;
    if (pending.request.commandField !== CommandField.CStoreRQ) {
      pending.dataSet.release();
      this.answer(context.id, pending.request, { status: STATUS_UNRECOGNIZED_OPERATION });
      this.checkIdle();
      return;
    }
    const done = this.store(pending);
    this.inFlight.add(done);
    this.storingBytes = pending.dataSet.heldBytes;
    // Nothing more is read until it is answered; what was already read is held (see `onData`).
    this.connection.pause();
    void done.finally(() => {
      this.inFlight.delete(done);
      this.storingBytes = 0;
      if (this.windowExceeded) this.abortLocally('protocol-error', AbortSource.ServiceUser, AbortReason.NotSpecified);
      else this.performHeld();
      this.resumeReading();
      this.checkIdle();
    });
  }

  private async store(pending: PendingRequest): Promise<void> {
    try {
      this.count(pending.context, pending.request, await this.answerFor(pending));
    } catch (err) {
      this.emitLog('responseFailed', { err });
      this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.NotSpecified);
    } finally {
      pending.dataSet.release();
    }
  }

  /** Counts the C-STORE's outcome and answers it (unless the association ended meanwhile). */
  private count(context: NegotiatedContext, request: DimseRequest, answer: StoreAnswer): void {
    if (answer.status === CStoreStatus.Success) this.stored++;
    else {
      this.failed++;
      const local = localFailureReason(answer);
      if (local) this.ctx.refused?.(local);
      // The ErrorComment may be shortened to fit its 64 characters; the log has the whole reason.
      this.emitLog('storeFailed', { status: hex(answer.status), errorComment: answer.errorComment, reason: answer.reason ?? answer.errorComment });
    }
    if (this.phase !== 'established' && this.phase !== 'releasing') return;
    this.answer(context.id, request, answer);
  }

  private async answerFor({ request, context, dataSet }: PendingRequest): Promise<StoreAnswer> {
    if (dataSet.overflowed === 'too-large') return LocalFailure.tooLarge;
    if (dataSet.overflowed === 'no-memory') return LocalFailure.noMemory;
    if (!request.affectedSOPClassUID) return LocalFailure.noAffectedSopClass;
    if (!request.affectedSOPInstanceUID) return LocalFailure.noAffectedSopInstance;
    const announcedSOPClassUID = request.affectedSOPClassUID;
    if (announcedSOPClassUID !== context.abstractSyntaxUID) return LocalFailure.sopClassNotOnContext;
    try {
      const outcome = await this.ctx.ingest.ingest({
        format: 'dataset',
        bytes: dataSet.bytes(),
        transferSyntaxUID: context.transferSyntaxUID,
        announcedSOPClassUID,
        announcedSOPInstanceUID: request.affectedSOPInstanceUID,
        route: this.route,
        source: { kind: 'dimse', callingAETitle: this.callingAETitle, remoteAddress: this.remoteAddress, associationId: this.associationId },
      });
      return answerForOutcome(outcome);
    } catch (err) {
      this.emitLog('ingestThrew', { err });
      return LocalFailure.ingestThrew;
    }
  }

  private answer(presentationContextID: number, request: DimseRequest, response: DimseResponse): void {
    try {
      let buffered = false;
      for (const pdu of commandPdus(presentationContextID, encodeResponse(request, response), this.peerMaxPduLength)) buffered = !this.connection.write(pdu) || buffered;
      this.idleTimer.refresh();
      if (buffered && !this.awaitingDrain) {
        this.awaitingDrain = true;
        this.connection.pause();
        this.connection.once('drain', () => {
          this.awaitingDrain = false;
          this.resumeReading();
        });
      }
    } catch (err) {
      this.emitLog('responseFailed', { err });
      this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.NotSpecified);
    }
  }

  /** Reads again once no C-STORE is being stored and the peer has read Limen's answers. */
  private resumeReading(): void {
    if (this.inFlight.size === 0 && !this.awaitingDrain) this.connection.resume();
  }

  private protocolError(code: string, abortReason: number): void {
    this.emitLog('protocolError', { code });
    this.abortLocally('protocol-error', AbortSource.ServiceProvider, abortReason);
  }

  // ---- transport -----------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.idleTimer.refresh();
    if (this.isOver() || this.windowExceeded) return;
    const violation = this.guard.feed(chunk);
    if (violation) {
      this.emitLog('protocolError', { code: violation.code, pduType: violation.pduType, pduLength: violation.length });
      this.abortLocally('protocol-error', AbortSource.ServiceProvider, violation.abortReason);
      return;
    }
    // The guard has checked every header, so each PDU here is in sequence and within its limits.
    const pdus = this.framer.push(chunk);
    for (let i = 0; i < pdus.length; i++) {
      if (this.isOver()) return;
      // One operation at a time: what comes after the data set being stored waits for its answer.
      if (this.inFlight.size > 0 || this.held.length > 0) return this.hold(pdus, i);
      this.dispatch(pdus[i]);
    }
  }

  private dispatch(pdu: Pdu): void {
    if (pdu.type === PduType.PData) return this.onPData(pdu);
    const bytes = pdu.bytes();
    if (pdu.type === PduType.AssociateRQ) this.requestRefusal = checkAssociateRq(bytes);
    if (this.libraryAttached) for (const listener of this.libraryDataListeners) listener(bytes);
  }

  /** Holds `pdus` from `from` on (views, not copies) until the operation in progress is answered. */
  private hold(pdus: Pdu[], from: number): void {
    // Past the window (PDVs held ahead of these went over it): nothing more is kept.
    if (this.windowExceeded) return;
    for (let i = from; i < pdus.length; i++) {
      const pdu = pdus[i];
      // An A-ABORT is no operation: it ends the association now, and what waits with it.
      if (pdu.type === PduType.Abort) {
        this.dropHeld();
        return this.dispatch(pdu);
      }
      this.held.push(pdu);
      this.heldBytes += pdu.length;
    }
    this.checkWindow();
  }

  /** Holds the PDVs left of a PDU in whose middle a C-STORE started: ahead of anything held after that PDU. */
  private holdPdvs(pdvs: readonly Pdv[]): void {
    const length = pdvs.reduce((n, pdv) => n + 6 + pdv.value.reduce((m, v) => m + v.length, 0), 0);
    this.held.unshift(new HeldPdvs(pdvs, length));
    this.heldBytes += length;
    this.checkWindow();
  }

  private checkWindow(): void {
    const limitBytes = this.ctx.settings.maxDataSetBytes;
    if (this.heldBytes + this.storingBytes <= limitBytes) return;
    // PS3.7 D.3.3.3: a requestor beyond the window may be aborted. The C-STORE in hand is answered first.
    this.emitLog('windowExceeded', { heldPdus: this.held.length, heldBytes: this.heldBytes, storingBytes: this.storingBytes, limitBytes });
    this.windowExceeded = true;
    this.dropHeld();
  }

  /** Performs the held PDUs, in order, until one starts a C-STORE (the rest wait for its answer). */
  private performHeld(): void {
    try {
      while (this.held.length > 0 && this.inFlight.size === 0 && !this.isOver()) {
        const item = this.held.shift()!;
        this.heldBytes -= item.length;
        if (item instanceof HeldPdvs) this.performPdvs(item.pdvs);
        else this.dispatch(item);
      }
    } catch (err) {
      this.emitLog('protocolError', { err });
      this.abortLocally('protocol-error', AbortSource.ServiceProvider, AbortReason.NotSpecified);
    }
    if (this.isOver()) this.dropHeld();
  }

  private dropHeld(): void {
    this.held = [];
    this.heldBytes = 0;
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
      this.connection.destroy();
      return;
    }
    // An idle time shorter than the ARTIM timer's: no association yet, so no A-ABORT either.
    if (this.phase === 'awaiting-associate') return this.onArtimExpired();
    this.abortLocally('idle-timeout', AbortSource.ServiceUser, AbortReason.NotSpecified);
  }

  /** No A-ASSOCIATE-RQ in time: the transport is closed, with no A-ABORT (PS3.8 9.2, Sta2 and AA-2). */
  private onArtimExpired(): void {
    if (this.phase !== 'awaiting-associate' || this.socketClosed) return;
    this.emitLog('artimExpired', { timeoutMs: this.ctx.settings.artimTimeoutMs });
    this.phase = 'aborted';
    this.guard.close();
    this.closeTransport();
  }

  private onSocketClosed(): void {
    this.socketClosed = true;
    // A data set cut off mid-way is never stored: its memory goes back now.
    this.pending?.dataSet.release();
    this.dropHeld();
    clearTimeout(this.idleTimer);
    clearTimeout(this.artimTimer);
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
    if (this.socketClosed || this.connection.destroyed) return;
    if (lastPdu) this.connection.end(lastPdu);
    else this.connection.end();
    this.lingerTimer = setTimeout(() => this.connection.destroy(), CLOSE_LINGER_MS);
    this.lingerTimer.unref();
  }

  private detachLibrary(): void {
    this.libraryAttached = false;
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
      transport: this.transport,
      ...(this.peerCertificateSha256 !== undefined && { peerCertificateSha256: this.peerCertificateSha256 }),
      ...(this.certificateError !== undefined && { certificateError: this.certificateError }),
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

/** The caller's certificate, when it presented one (when the TLS listener asked for it). */
function certificateFingerprint(socket: TLSSocket): string | undefined {
  const raw = socket.getPeerCertificate().raw as Buffer | undefined;
  return raw && raw.length > 0 ? createHash('sha256').update(raw).digest('hex') : undefined;
}

function hex(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** C-ECHO is the Verification service's (PS3.7 9.1.5): asked on another context or for another class, 0x0122. */
function echoStatus(request: DimseRequest, context: NegotiatedContext): number {
  const verification = context.abstractSyntaxUID === VERIFICATION_SOP_CLASS && (request.affectedSOPClassUID ?? VERIFICATION_SOP_CLASS) === VERIFICATION_SOP_CLASS;
  return verification ? CStoreStatus.Success : CStoreStatus.SopClassNotSupported;
}
